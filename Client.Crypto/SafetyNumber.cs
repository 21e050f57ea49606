using System.Security.Cryptography;
using System.Text;

namespace Natter.Client.Crypto;

/// <summary>
/// Safety numbers, as Signal computes them: two users compare 60 digits to check that no one stands between them.
/// Each user's half: h = u16(0) || identityKey || UTF-8(userId), then 5200 times h = SHA-512(h || identityKey);
/// the first 30 bytes as six 5-byte big-endian numbers, each mod 100000, zero-padded to 5 digits.
/// </summary>
public static class SafetyNumber
{
    public const int Iterations = 5200;

    /// <summary>The 30-digit half of one user.</summary>
    public static string Fingerprint(string userId, ReadOnlySpan<byte> identityKey)
    {
        var key = identityKey.ToArray();
        var hash = Bytes.Concat([0, 0], key, Encoding.UTF8.GetBytes(userId));
        for (var i = 0; i < Iterations; i++) hash = SHA512.HashData(Bytes.Concat(hash, key));

        var digits = new StringBuilder(30);
        for (var chunk = 0; chunk < 6; chunk++)
        {
            ulong value = 0;
            foreach (var b in hash.AsSpan(chunk * 5, 5)) value = (value << 8) | b;
            digits.Append((value % 100000).ToString("D5"));
        }
        return digits.ToString();
    }

    /// <summary>The 60 digits both sides see: the half of the user whose id is smaller (as UTF-8 bytes) first.</summary>
    public static string Compute(string userIdA, ReadOnlySpan<byte> identityKeyA, string userIdB, ReadOnlySpan<byte> identityKeyB)
    {
        var a = Fingerprint(userIdA, identityKeyA);
        var b = Fingerprint(userIdB, identityKeyB);
        var order = Encoding.UTF8.GetBytes(userIdA).AsSpan().SequenceCompareTo(Encoding.UTF8.GetBytes(userIdB));
        if (order == 0) order = string.CompareOrdinal(a, b);
        return order <= 0 ? a + b : b + a;
    }
}
