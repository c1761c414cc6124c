import Foundation

/// Who is asking a stored survey: `HOST:PID`. A survey whose owner is a live process is not resumed,
/// continued or deleted by another; one whose owner died (a crash, `kill -9`) may be.
public enum SurveyOwner {
    /// This process: `HOST:PID`.
    public static var current: String { "\(ProcessInfo.processInfo.hostName):\(getpid())" }

    /// What an owner means for this process.
    public enum Standing: Equatable {
        /// Nobody owns the survey, or its owner was a process of this host that has ended.
        case free
        /// A live process of this host owns it.
        case alive(pid: Int32)
        /// A process of another host owns it; whether it still runs cannot be known from here.
        case elsewhere(host: String, pid: Int32)
    }

    public static func standing(of owner: String?) -> Standing {
        guard let owner, let colon = owner.lastIndex(of: ":"), let pid = Int32(owner[owner.index(after: colon)...]) else {
            return .free
        }
        let host = String(owner[..<colon])
        guard host == ProcessInfo.processInfo.hostName else { return .elsewhere(host: host, pid: pid) }
        // kill(pid, 0) probes without signalling: 0 or EPERM means the process exists.
        if pid == getpid() || kill(pid, 0) == 0 || errno == EPERM { return .alive(pid: pid) }
        return .free
    }
}
