using System.Text;
using NSec.Cryptography;

namespace Natter.Client.Crypto;

/// <summary>HKDF-SHA256 with an ASCII label as info: every derivation in the protocol goes through here.</summary>
internal static class Hkdf
{
    public static byte[] DeriveBytes(ReadOnlySpan<byte> inputKeyMaterial, ReadOnlySpan<byte> salt, string info, int length) =>
        KeyDerivationAlgorithm.HkdfSha256.DeriveBytes(inputKeyMaterial, salt, Encoding.ASCII.GetBytes(info), length);
}
