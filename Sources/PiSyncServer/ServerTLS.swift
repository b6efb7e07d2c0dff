import NIOSSL
import PiSyncAuth
import PiSyncStore

/// TLS for the server's port: its certificate chain and key, and optionally a CA whose client
/// certificates identify devices (mutual TLS).
///
/// With a client CA, a client may present a certificate; one that does not verify against the
/// CA fails the handshake, and one that does makes the connection its device's: the first
/// DNS subject alternative name that is a valid device id, or, for a certificate with no DNS
/// names, the subject's common name. A
/// connection without a certificate authenticates with a token as usual.
public struct ServerTLS: Sendable {
    /// PEM file with the server's certificate, then any intermediates.
    public var certificateChainPath: String
    /// PEM file with the server's private key.
    public var privateKeyPath: String
    /// PEM file with the CA(s) that issue device certificates; `nil` for no client certificates.
    public var clientCAPath: String?

    /// TLS from PEM files.
    public init(certificateChainPath: String, privateKeyPath: String, clientCAPath: String? = nil) {
        self.certificateChainPath = certificateChainPath
        self.privateKeyPath = privateKeyPath
        self.clientCAPath = clientCAPath
    }

    /// The key id of identities that come from a client certificate rather than a token.
    public static let certificateKeyID = "tls-client-certificate"

    /// Loads the files into a context for every connection.
    /// - Throws: ``ServerTLSError`` naming the file that could not be used.
    public func makeContext() throws(ServerTLSError) -> NIOSSLContext {
        let chain: [NIOSSLCertificate]
        let key: NIOSSLPrivateKey
        do {
            chain = try NIOSSLCertificate.fromPEMFile(certificateChainPath)
        } catch {
            throw ServerTLSError(path: certificateChainPath, reason: "not a PEM certificate chain (\(error))")
        }
        guard !chain.isEmpty else { throw ServerTLSError(path: certificateChainPath, reason: "holds no certificate") }
        do {
            key = try NIOSSLPrivateKey(file: privateKeyPath, format: .pem)
        } catch {
            throw ServerTLSError(path: privateKeyPath, reason: "not a PEM private key (\(error))")
        }
        var configuration = TLSConfiguration.makeServerConfiguration(
            certificateChain: chain.map { .certificate($0) }, privateKey: .privateKey(key))
        configuration.minimumTLSVersion = .tlsv12
        if let clientCAPath {
            do {
                let roots = try NIOSSLCertificate.fromPEMFile(clientCAPath)
                guard !roots.isEmpty else { throw ServerTLSError(path: clientCAPath, reason: "holds no certificate") }
                configuration.trustRoots = .certificates(roots)
            } catch let error as ServerTLSError {
                throw error
            } catch {
                throw ServerTLSError(path: clientCAPath, reason: "not a PEM CA certificate (\(error))")
            }
            configuration.certificateVerification = .optionalVerification
        }
        do {
            return try NIOSSLContext(configuration: configuration)
        } catch {
            throw ServerTLSError(path: privateKeyPath, reason: "the key and the certificate do not make a TLS context (\(error))")
        }
    }

    /// The device a verified client certificate names, if it names one.
    static func deviceIdentity(of certificate: NIOSSLCertificate) -> Identity? {
        var names: [String] = []
        for name in certificate._subjectAlternativeNames() where name.nameType == .dnsName {
            names.append(String(decoding: name.contents, as: UTF8.self))
        }
        // DNS names when there are any (RFC 6125 prefers them to the common name), else the
        // subject's most significant common name.
        if names.isEmpty {
            names = certificate.subjectName.filter { $0.type == .commonName }.map(\.value).suffix(1)
        }
        guard let device = names.first(where: { EventValidator.deviceIDViolation($0) == nil }) else { return nil }
        return Identity(role: .device, name: device, keyID: certificateKeyID)
    }
}

/// A TLS file could not be used.
public struct ServerTLSError: Error, CustomStringConvertible {
    /// The file.
    public let path: String
    /// Why.
    public let reason: String

    public var description: String { "TLS: \(path): \(reason)" }
}
