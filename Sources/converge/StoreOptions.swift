import ArgumentParser
import ConvergeStore

/// `--db`, shared by every command that reads or writes stored surveys.
struct StoreOptions: ParsableArguments {
    @Option(help: ArgumentHelp(
        "Database: sqlite:PATH or postgres://USER:PASSWORD@HOST:PORT/DB.",
        discussion: "Default: CONVERGE_DATABASE_URL, then $XDG_DATA_HOME/converge/converge.sqlite. Prefer the variable for a password: flags show in process lists."))
    var db: String?

    /// Opens the store (migrating it), runs `body`, and closes the store whatever happens.
    func withStore<T>(_ body: (any SurveyStore) async throws -> T) async throws -> T {
        let store = try await openStore(try DatabaseURL.resolve(flag: db))
        do {
            let value = try await body(store)
            await store.close()
            return value
        } catch {
            await store.close()
            throw error
        }
    }
}
