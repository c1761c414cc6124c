import Foundation
#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// A read-only view of a safetensors file: an 8-byte little-endian header length, a JSON header naming each
/// tensor's dtype, shape and byte range, then the raw little-endian tensor data.
///
/// Format: https://github.com/huggingface/safetensors (README, "Format"). Only `F32` tensors can be read as
/// floats; other dtypes are listed but `tensor(_:shape:)` and `floats(_:shape:)` refuse them. Every byte range
/// is checked against the file, so a truncated or damaged file throws `EmbeddingModelError.damaged` instead of
/// reading out of bounds.
///
/// `init(path:)` maps the file (`mmap`, read-only, private) and `tensor(_:shape:)` returns views into the
/// mapping: loading copies nothing, and pages are read from the page cache only when a product first touches
/// them (most of the word-embedding table never is). The mapping lives as long as any view of it.
public struct SafeTensorsFile: Sendable {
    public struct TensorInfo: Sendable, Equatable {
        public var dtype: String
        public var shape: [Int]
        /// Byte range within the data section (after the header).
        public var range: Range<Int>
    }

    public let path: String
    public let tensors: [String: TensorInfo]
    /// FNV-1a (64-bit) over the file's modification time (when read from a path) and size, the header and 1,024
    /// windows of 64 bytes spread evenly over the data, in hex: tells two weight files apart (another fine-tune
    /// of the same shapes, weights edited in place) without reading all of them. Not a content hash: the same
    /// file copied with another modification time has another fingerprint (its cached vectors are made again).
    public let fingerprint: String
    private let bytes: TensorBytes
    private let dataStart: Int

    /// Maps the file at `path`. Throws `EmbeddingModelError.missingFile` when it does not exist and `.damaged`
    /// when it cannot be read, its header is not valid or a tensor's byte range does not fit its dtype, shape
    /// or the file.
    public init(path: String) throws {
        guard FileManager.default.fileExists(atPath: path) else { throw EmbeddingModelError.missingFile(path: path) }
        let bytes: TensorBytes
        do {
            bytes = try TensorBytes(mapping: path)
        } catch let failure as TensorBytes.MapFailure {
            throw EmbeddingModelError.damaged(path: path, reason: "cannot be read (\(failure.reason))")
        }
        // The file's modification time goes into the fingerprint: weights changed in place are another model.
        var info = stat()
        let stamp: [UInt64] = stat(path, &info) == 0
            ? [UInt64(bitPattern: Int64(info.st_mtim.tv_sec)), UInt64(bitPattern: Int64(info.st_mtim.tv_nsec))] : []
        try self.init(path: path, bytes: bytes, stamp: stamp)
    }

    /// Parses safetensors bytes held in memory (copied once); `path` only names them in errors.
    public init(path: String, data: Data) throws {
        try self.init(path: path, bytes: TensorBytes(copying: data), stamp: [])
    }

    private init(path: String, bytes: TensorBytes, stamp: [UInt64]) throws {
        self.path = path
        let data = UnsafeRawBufferPointer(start: bytes.base, count: bytes.count)
        func damaged(_ reason: String) -> EmbeddingModelError { .damaged(path: path, reason: reason) }
        guard data.count >= 8 else { throw damaged("not a safetensors file (\(data.count) bytes, no header)") }
        var headerLength: UInt64 = 0
        for i in (0..<8).reversed() { headerLength = headerLength << 8 | UInt64(data[i]) }
        guard headerLength <= UInt64(data.count - 8), headerLength <= 100_000_000 else {
            throw damaged("header length \(headerLength) exceeds the file size \(data.count)")
        }
        let headerData = Data(data[8..<(8 + Int(headerLength))])
        guard let header = try? JSONSerialization.jsonObject(with: headerData) as? [String: Any] else {
            throw damaged("header is not a JSON object")
        }
        let dataLength = data.count - 8 - Int(headerLength)
        var tensors: [String: TensorInfo] = [:]
        for (name, value) in header where name != "__metadata__" {
            guard let entry = value as? [String: Any], let dtype = entry["dtype"] as? String,
                  let shape = (entry["shape"] as? [NSNumber])?.map(\.intValue),
                  let offsets = (entry["data_offsets"] as? [NSNumber])?.map(\.intValue), offsets.count == 2
            else { throw damaged("tensor \(name): header entry lacks dtype, shape or data_offsets") }
            guard offsets[0] >= 0, offsets[0] <= offsets[1], offsets[1] <= dataLength else {
                throw damaged("tensor \(name): bytes \(offsets[0])..<\(offsets[1]) lie outside the data "
                              + "(\(dataLength) bytes; the file may be truncated)")
            }
            guard shape.allSatisfy({ $0 >= 0 }) else { throw damaged("tensor \(name): negative dimension") }
            if let size = Self.byteSize(dtype) {
                let expected = shape.reduce(1, *) * size
                guard expected == offsets[1] - offsets[0] else {
                    throw damaged("tensor \(name): shape \(shape) of \(dtype) needs \(expected) bytes, "
                                  + "the header gives \(offsets[1] - offsets[0])")
                }
            }
            tensors[name] = TensorInfo(dtype: dtype, shape: shape, range: offsets[0]..<offsets[1])
        }
        self.tensors = tensors
        self.bytes = bytes
        self.dataStart = 8 + Int(headerLength)
        self.fingerprint = Self.fingerprint(data, dataStart: 8 + Int(headerLength), stamp: stamp)
    }

    static func fingerprint(_ data: UnsafeRawBufferPointer, dataStart: Int, stamp: [UInt64]) -> String {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        func mix(_ byte: UInt8) {
            hash ^= UInt64(byte)
            hash = hash &* 0x100_0000_01b3
        }
        func mix(_ range: Range<Int>) { for i in range { mix(data[i]) } }
        for word in stamp + [UInt64(data.count)] { for k in 0..<8 { mix(UInt8(truncatingIfNeeded: word >> (8 * k))) } }
        mix(0..<dataStart)
        let length = data.count - dataStart, window = 64, windows = 1024
        if length <= window * windows {
            mix(dataStart..<data.count)
        } else {
            for w in 0..<windows {
                let start = dataStart + (length - window) / (windows - 1) * w
                mix(start..<(start + window))
            }
        }
        return String(hash, radix: 16)
    }

    static func byteSize(_ dtype: String) -> Int? {
        switch dtype {
        case "F64", "I64", "U64": return 8
        case "F32", "I32", "U32": return 4
        case "F16", "BF16", "I16", "U16": return 2
        case "I8", "U8", "BOOL", "F8_E4M3", "F8_E5M2": return 1
        default: return nil
        }
    }

    /// The F32 tensor `name`, of shape `shape`, as a view of the file's bytes (no copy when they are 4-byte
    /// aligned on a little-endian machine, as safetensors writers align them; else one aligned copy). Throws
    /// `.damaged` when it is absent, not F32, or its shape is not `shape`.
    public func tensor(_ name: String, shape: [Int]) throws -> FloatTensor {
        guard let info = tensors[name] else {
            throw EmbeddingModelError.damaged(path: path, reason: "tensor \(name) is missing")
        }
        guard info.dtype == "F32" else {
            throw EmbeddingModelError.damaged(path: path, reason: "tensor \(name) is \(info.dtype), expected F32")
        }
        guard info.shape == shape else {
            throw EmbeddingModelError.damaged(path: path, reason: "tensor \(name) has shape \(info.shape), expected \(shape)")
        }
        let start = bytes.base + dataStart + info.range.lowerBound
        let count = info.range.count / 4
        #if _endian(little)
        if Int(bitPattern: start) % MemoryLayout<Float>.alignment == 0 {
            return FloatTensor(storage: bytes, base: start.assumingMemoryBound(to: Float.self), count: count, shape: shape)
        }
        #endif
        let copy = TensorBytes(copying: Data(UnsafeRawBufferPointer(start: start, count: info.range.count)))
        let floats = copy.base.assumingMemoryBound(to: UInt32.self)
        for i in 0..<count { floats[i] = UInt32(littleEndian: floats[i]) }
        return FloatTensor(storage: copy, base: UnsafeRawPointer(floats).assumingMemoryBound(to: Float.self),
                           count: count, shape: shape)
    }

    /// The F32 tensor `name` as floats in row-major order (a copy; `tensor(_:shape:)` is the view). Throws
    /// `.damaged` when it is absent, not F32, or its shape is not `shape`.
    public func floats(_ name: String, shape: [Int]) throws -> [Float] {
        let view = try tensor(name, shape: shape)
        return view.withUnsafeBufferPointer { Array($0) }
    }
}

/// A row-major F32 tensor held in place in a `SafeTensorsFile`'s bytes (usually the mapped file), which it keeps
/// alive. Read-only: the bytes are never written after load, so a view may be shared across threads.
public struct FloatTensor: @unchecked Sendable {
    // @unchecked: `storage` is immutable after init and only read through `base`.
    let storage: TensorBytes
    /// The first float; valid as long as this view (or another of the same file) lives.
    let base: UnsafePointer<Float>
    /// Number of floats (the product of `shape`).
    public let count: Int
    public let shape: [Int]

    init(storage: TensorBytes, base: UnsafePointer<Float>, count: Int, shape: [Int]) {
        self.storage = storage
        self.base = base
        self.count = count
        self.shape = shape
    }

    /// An owned copy of `floats` (row-major, `shape`'s product of them): a weight computed at load (a merged
    /// adapter) rather than read from a file.
    init(owning floats: [Float], shape: [Int]) {
        precondition(floats.count == shape.reduce(1, *), "\(floats.count) floats for shape \(shape)")
        let bytes = floats.withUnsafeBytes { TensorBytes(copying: Data($0)) }
        self.init(storage: bytes, base: UnsafePointer(bytes.base.assumingMemoryBound(to: Float.self)),
                  count: floats.count, shape: shape)
    }

    /// Calls `body` with the floats; the pointer must not escape it.
    public func withUnsafeBufferPointer<R>(_ body: (UnsafeBufferPointer<Float>) throws -> R) rethrows -> R {
        try withExtendedLifetime(storage) { try body(UnsafeBufferPointer(start: base, count: count)) }
    }
}

/// Bytes that stay put for their whole life: a read-only private mapping of a file, or an owned copy.
final class TensorBytes: @unchecked Sendable {
    // @unchecked: immutable after init; the bytes are written only while a copy is being made, before sharing.
    let base: UnsafeMutableRawPointer
    let count: Int
    private let mapped: Bool

    struct MapFailure: Error { var reason: String }

    /// Maps the file at `path` read-only (`mmap(PROT_READ, MAP_PRIVATE)`); an empty file is an empty buffer.
    init(mapping path: String) throws {
        let fd = open(path, O_RDONLY)
        guard fd >= 0 else { throw MapFailure(reason: String(cString: strerror(errno))) }
        defer { close(fd) }
        var info = stat()
        guard fstat(fd, &info) == 0 else { throw MapFailure(reason: String(cString: strerror(errno))) }
        let size = Int(info.st_size)
        guard size > 0 else {
            base = UnsafeMutableRawPointer.allocate(byteCount: 1, alignment: 16)
            count = 0
            mapped = false
            return
        }
        guard let address = mmap(nil, size, PROT_READ, MAP_PRIVATE, fd, 0), address != UnsafeMutableRawPointer(bitPattern: -1) else {
            throw MapFailure(reason: String(cString: strerror(errno)))
        }
        base = address
        count = size
        mapped = true
    }

    /// An owned, 16-byte aligned copy of `data`.
    init(copying data: Data) {
        let buffer = UnsafeMutableRawPointer.allocate(byteCount: max(1, data.count), alignment: 16)
        data.withUnsafeBytes { if let source = $0.baseAddress { buffer.copyMemory(from: source, byteCount: $0.count) } }
        base = buffer
        count = data.count
        mapped = false
    }

    deinit {
        if mapped { munmap(base, count) } else { base.deallocate() }
    }
}
