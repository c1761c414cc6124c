import ArgumentParser
import ConvergeStore
import Foundation

/// `--db`, shared by every command that reads or writes stored surveys.
struct StoreOptions: ParsableArguments {
    @Option(help: ArgumentHelp(
        "Database: sqlite:PATH or postgres://USER:PASSWORD@HOST:PORT/DB.",
        discussion: "Default: CONVERGE_DATABASE_URL, then $XDG_DATA_HOME/converge/converge.sqlite. "
            + "Prefer the variable for a password: flags show in process lists."))
    var db: String?

    /// The database the options name.
    func location() throws -> DatabaseURL { try DatabaseURL.resolve(flag: db) }

    /// Whether the database is a SQLite file that does not exist yet.
    func isMissingFile() throws -> Bool {
        if case .sqlite(let path) = try location() { return !FileManager.default.fileExists(atPath: path) }
        return false
    }

    /// Opens the store (migrating it), runs `body`, and closes the store whatever happens.
    ///
    /// - Parameter creating: whether a missing SQLite file may be created (only `ask` makes surveys; the
    ///   other commands would make an empty database out of a mistyped path).
    func withStore<T>(creating: Bool = false, _ body: (any SurveyStore) async throws -> T) async throws -> T {
        let url = try location()
        if !creating, try isMissingFile() {
            throw StoreError.unavailable(location: url.description,
                                         reason: "there is no database there yet (`converge ask` makes it)")
        }
        let store = try await openStore(url)
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
