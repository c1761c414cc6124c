import Foundation

#if FUZZING
/// libFuzzer's entry point (`scripts/fuzz TARGET SECONDS` builds with `-sanitize=fuzzer,address -D FUZZING`);
/// the target is named by `CONVERGE_FUZZ_TARGET`.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzOne(_ bytes: UnsafePointer<UInt8>, _ count: Int) -> CInt {
    let target = ProcessInfo.processInfo.environment["CONVERGE_FUZZ_TARGET"] ?? ""
    FuzzTargets.run(target, Data(bytes: bytes, count: count))
    return 0
}

/// libFuzzer's driver (libclang_rt.fuzzer): parses its flags and runs `fuzzOne` until a limit or a failure.
@_silgen_name("LLVMFuzzerRunDriver")
func LLVMFuzzerRunDriver(
    _ argc: UnsafeMutablePointer<CInt>, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?>,
    _ callback: @convention(c) (UnsafePointer<UInt8>, Int) -> CInt) -> CInt

/// SwiftPM links an executable's entry point under the module's name; here it hands over to libFuzzer's driver.
@_cdecl("converge_fuzz_main")
func fuzzMain(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> CInt {
    var count = argc
    var arguments = argv
    return LLVMFuzzerRunDriver(&count, &arguments) { fuzzOne($0, $1) }
}
#else
/// Without libFuzzer: `converge-fuzz TARGET FILE...` runs the target on each file (a corpus replayed as a
/// regression test; scripts/test replays the committed corpora). Exit 0 when every input passes.
@main
struct Replay {
    static func main() throws {
        let arguments = Array(CommandLine.arguments.dropFirst())
        guard let target = arguments.first, FuzzTargets.names.contains(target) else {
            FileHandle.standardError.write(Data("usage: converge-fuzz TARGET FILE... (targets: \(FuzzTargets.names.joined(separator: ", ")))\n".utf8))
            exit(2)
        }
        var count = 0
        for path in arguments.dropFirst() {
            var isFolder: ObjCBool = false
            let files = FileManager.default.fileExists(atPath: path, isDirectory: &isFolder) && isFolder.boolValue
                ? try FileManager.default.contentsOfDirectory(atPath: path).sorted().map { path + "/" + $0 } : [path]
            for file in files {
                FuzzTargets.run(target, try Data(contentsOf: URL(fileURLWithPath: file)))
                count += 1
            }
        }
        print("converge-fuzz \(target): \(count) inputs, no failure")
    }
}
#endif
