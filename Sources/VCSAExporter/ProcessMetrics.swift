import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// The standard `process_*` metrics, read from /proc/self as the Go client does.
enum ProcessMetrics {
    /// Boot time and clock ticks do not change; read them once.
    private static let bootTime: Double = {
        guard let stat = try? String(contentsOfFile: "/proc/stat", encoding: .utf8),
              let line = stat.split(separator: "\n").first(where: { $0.hasPrefix("btime ") }),
              let value = Double(line.dropFirst(6).trimmingCharacters(in: .whitespaces)) else { return 0 }
        return value
    }()
    private static let ticksPerSecond = Double(sysconf(Int32(_SC_CLK_TCK)))
    private static let pageSize = Double(sysconf(Int32(_SC_PAGESIZE)))

    static func write(to writer: inout ExpositionWriter) {
        // /proc/self/stat: the command name may hold spaces, so fields are counted after its closing ')'.
        if let stat = try? String(contentsOfFile: "/proc/self/stat", encoding: .utf8),
           let close = stat.lastIndex(of: ")") {
            let fields = stat[stat.index(after: close)...].split(separator: " ")
            // fields[0] is field 3 (state): utime is field 14, stime 15, starttime 22, vsize 23, rss 24.
            func field(_ number: Int) -> Double { fields.count > number - 3 ? Double(fields[number - 3]) ?? 0 : 0 }
            writer.single("process_cpu_seconds_total", .counter, help: "Total user and system CPU time spent in seconds.", (field(14) + field(15)) / ticksPerSecond)
            writer.single("process_resident_memory_bytes", .gauge, help: "Resident memory size in bytes.", field(24) * pageSize)
            writer.single("process_virtual_memory_bytes", .gauge, help: "Virtual memory size in bytes.", field(23))
            writer.single("process_start_time_seconds", .gauge, help: "Start time of the process since unix epoch in seconds.", bootTime + field(22) / ticksPerSecond)
        }
        if let fds = try? FileManager.default.contentsOfDirectory(atPath: "/proc/self/fd") {
            writer.single("process_open_fds", .gauge, help: "Number of open file descriptors.", Double(fds.count))
        }
        var limit = rlimit()
        if getrlimit(Int32(RLIMIT_NOFILE.rawValue), &limit) == 0 {
            writer.single("process_max_fds", .gauge, help: "Maximum number of open file descriptors.", Double(limit.rlim_cur))
        }
    }
}
