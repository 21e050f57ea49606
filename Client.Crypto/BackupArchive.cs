using System.Buffers.Binary;
using System.Security.Cryptography;
using System.Text;

namespace Natter.Client.Crypto;

/// <summary>
/// An encrypted backup (docs/e2ee.md §10): only someone with the passphrase opens it, the server never.
/// <code>
/// "NATTERBK" || 0x01 || iterations (u32, big-endian) || salt (16 bytes)
///   || ChaCha20-Poly1305(key, nonce = 12 zero bytes, ad = the 29 header bytes || UTF-8(userId), plaintext)
/// key = PBKDF2-HMAC-SHA256(UTF-8(NFKC(passphrase)), salt, iterations, 32 bytes)
/// </code>
/// A passphrase that is 64 hex digits once spaces, tabs, line breaks and dashes are dropped (a recovery key) is
/// taken as those digits in lowercase (the browser client drops exactly the same characters).
/// The fixed nonce is safe because every archive has a fresh salt, so a fresh key. The account's user id is
/// bound in: one account's backup does not open as another's.
/// </summary>
public static class BackupArchive
{
    public const byte Version = 0x01;
    public const int DefaultIterations = 600_000; // OWASP's figure for PBKDF2-HMAC-SHA256 (2023)
    public const int MinIterations = 100_000;
    public const int MaxIterations = 10_000_000; // what a client will spend opening one, whoever made it
    public const int MinPassphraseLength = 8;

    private const int SaltSize = 16;
    private static readonly byte[] Magic = "NATTERBK"u8.ToArray();
    private static readonly int HeaderSize = Magic.Length + 1 + 4 + SaltSize;
    private static readonly byte[] Nonce = new byte[Aead.NonceSize];

    /// <summary>A random passphrase to write down instead of choosing one: 64 hex digits (256 bits).</summary>
    public static string NewRecoveryKey() => Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(32));

    public static byte[] Seal(ReadOnlySpan<byte> plaintext, string passphrase, string userId, int iterations = DefaultIterations)
    {
        if (iterations is < MinIterations or > MaxIterations)
            throw new ArgumentOutOfRangeException(nameof(iterations), $"{MinIterations} to {MaxIterations} iterations");
        if (passphrase.Normalize(NormalizationForm.FormKC).Length < MinPassphraseLength)
            throw new ArgumentException($"A backup passphrase has at least {MinPassphraseLength} characters.", nameof(passphrase));

        var header = new byte[HeaderSize];
        Magic.CopyTo(header, 0);
        header[Magic.Length] = Version;
        BinaryPrimitives.WriteUInt32BigEndian(header.AsSpan(Magic.Length + 1), (uint)iterations);
        RandomNumberGenerator.Fill(header.AsSpan(HeaderSize - SaltSize));
        var key = Rfc2898DeriveBytes.Pbkdf2(PassphraseBytes(passphrase), header.AsSpan(HeaderSize - SaltSize), iterations, HashAlgorithmName.SHA256, Aead.KeySize);
        return Bytes.Concat(header, Aead.Encrypt(key, Nonce, AssociatedData(header, userId), plaintext));
    }

    /// <summary>The plaintext; <see cref="InvalidMessageException"/> if this is not a backup, or the passphrase or account is wrong, or it was altered.</summary>
    public static byte[] Open(ReadOnlySpan<byte> archive, string passphrase, string userId)
    {
        if (archive.Length < HeaderSize + Aead.TagSize || !archive[..Magic.Length].SequenceEqual(Magic))
            throw new InvalidMessageException("Not a Natter backup.");
        if (archive[Magic.Length] != Version) throw new InvalidMessageException($"A version {archive[Magic.Length]} backup; this client reads version {Version}.");
        var iterations = BinaryPrimitives.ReadUInt32BigEndian(archive[(Magic.Length + 1)..]);
        if (iterations is < MinIterations or > MaxIterations) throw new InvalidMessageException($"A backup with {iterations} iterations is refused.");
        var header = archive[..HeaderSize];
        var key = Rfc2898DeriveBytes.Pbkdf2(PassphraseBytes(passphrase), header[^SaltSize..], (int)iterations, HashAlgorithmName.SHA256, Aead.KeySize);
        return Aead.Decrypt(key, Nonce, AssociatedData(header, userId), archive[HeaderSize..])
               ?? throw new InvalidMessageException("The backup does not open: wrong passphrase, another account's backup, or altered.");
    }

    private static byte[] PassphraseBytes(string passphrase)
    {
        var normalized = passphrase.Normalize(NormalizationForm.FormKC);
        // A recovery key typed back in groups or in capitals is the same key.
        var compact = new string(normalized.Where(c => c is not (' ' or '\t' or '\r' or '\n' or '-')).ToArray());
        if (compact.Length == 64 && compact.All(char.IsAsciiHexDigit)) normalized = compact.ToLowerInvariant();
        return Encoding.UTF8.GetBytes(normalized);
    }

    private static byte[] AssociatedData(ReadOnlySpan<byte> header, string userId) => Bytes.Concat(header.ToArray(), Encoding.UTF8.GetBytes(userId));
}
