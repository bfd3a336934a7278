#if canImport(Glibc)
import Glibc
#endif

/// The standard `process_*` metrics, read from /proc/self as the Go client does.
/// Read with plain system calls: they are on every scrape's path.
public enum ProcessMetrics {
    /// Boot time and the kernel's units do not change; read them once.
    private static let bootTime: Double = {
        guard let stat = readFile("/proc/stat"),
              let line = stat.split(separator: "\n").first(where: { $0.hasPrefix("btime ") }) else { return 0 }
        return Double(line.dropFirst(6)) ?? 0
    }()
    private static let ticksPerSecond = Double(sysconf(Int32(_SC_CLK_TCK)))
    private static let pageSize = Double(sysconf(Int32(_SC_PAGESIZE)))

    public static func write(to writer: inout ExpositionWriter) {
        // The command name in /proc/self/stat may hold spaces, so fields are counted after its closing ')'.
        if let stat = readFile("/proc/self/stat"), let close = stat.lastIndex(of: ")") {
            let fields = stat[stat.index(after: close)...].split(separator: " ")
            // fields[0] is field 3 (state): utime is field 14, stime 15, starttime 22, vsize 23, rss 24.
            func field(_ number: Int) -> Double { fields.count > number - 3 ? Double(fields[number - 3]) ?? 0 : 0 }
            writer.single("process_cpu_seconds_total", .counter, help: "Total user and system CPU time spent in seconds.", (field(14) + field(15)) / ticksPerSecond)
            writer.single("process_resident_memory_bytes", .gauge, help: "Resident memory size in bytes.", field(24) * pageSize)
            writer.single("process_virtual_memory_bytes", .gauge, help: "Virtual memory size in bytes.", field(23))
            writer.single("process_start_time_seconds", .gauge, help: "Start time of the process since unix epoch in seconds.", bootTime + field(22) / ticksPerSecond)
        }
        if let open = openFileCount() {
            writer.single("process_open_fds", .gauge, help: "Number of open file descriptors.", Double(open))
        }
        var limit = rlimit()
        if getrlimit(Int32(RLIMIT_NOFILE.rawValue), &limit) == 0 {
            writer.single("process_max_fds", .gauge, help: "Maximum number of open file descriptors.", Double(limit.rlim_cur))
        }
    }

    /// A small /proc file in one piece.
    static func readFile(_ path: String) -> String? {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { return nil }
        defer { close(fd) }
        var bytes: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 4096)
        while true {
            let count = buffer.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
            guard count > 0 else { break }
            bytes.append(contentsOf: buffer[..<count])
        }
        return String(decoding: bytes, as: UTF8.self)
    }

    /// Entries in /proc/self/fd, less ".", ".." and the directory's own descriptor.
    static func openFileCount() -> Int? {
        guard let directory = opendir("/proc/self/fd") else { return nil }
        defer { closedir(directory) }
        var count = 0
        while let entry = readdir(directory) {
            if entry.pointee.d_name.0 != 0x2E { count += 1 }  // skip "." and ".."
        }
        return count - 1
    }
}
