import Foundation
import Synchronization

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

// The C calls the browser driver makes, under names that no member shadows (`HeadlessBrowser.close`).
func closeFD(_ fd: Int32) { _ = close(fd) }
func sysRead(_ fd: Int32, _ buffer: UnsafeMutableRawPointer, _ count: Int) -> Int { read(fd, buffer, count) }
func sysWrite(_ fd: Int32, _ buffer: UnsafeRawPointer, _ count: Int) -> Int { write(fd, buffer, count) }
func errorText(_ code: Int32) -> String { String(cString: strerror(code)) }

/// A pipe whose both ends close on exec (pipe2 is not exported to Swift; the window between pipe and fcntl
/// only matters to a concurrent fork elsewhere in the test process, which would hold an extra end briefly).
func closeOnExecPipe(_ fds: inout [Int32]) -> Bool {
    guard pipe(&fds) == 0 else { return false }
    for fd in fds { _ = fcntl(fd, F_SETFD, FD_CLOEXEC) }
    return true
}
