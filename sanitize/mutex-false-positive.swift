// Why `make sanitize`'s ThreadSanitizer reports on Mutex-guarded state are not races: with Swift 6.3
// on Linux, ThreadSanitizer does not see Synchronization.Mutex's lock, so even this program, whose
// every access is inside withLock, is reported ("data race ... closure in main").
//   swiftc -sanitize=thread -O sanitize/mutex-false-positive.swift -o /tmp/m && /tmp/m
// Seen 2026-11-24: RequestContext.exchange, the simulator's ApplianceState.state and the test
// harness' LiveChildren, all Mutex-guarded, are reported the same way.
import Synchronization
import Foundation

final class Box: Sendable {
    struct State { var phase = 0; var value: [Int]? = nil }
    let state = Mutex(State())
}
let box = Box()
let t1 = Thread {
    for i in 0..<20000 { box.state.withLock { s in if s.phase != 2 { s.value = [i] } } }
}
let t2 = Thread {
    for i in 0..<20000 { box.state.withLock { s in s.phase = i % 3; s.value = nil } }
}
t1.start(); t2.start()
Thread.sleep(forTimeInterval: 2)
print("done", box.state.withLock { $0.phase })
