namespace Natter.Client.Crypto.Tests;

internal static class Hex
{
    public static byte[] Bytes(string hex) => Convert.FromHexString(hex);
    public static string Of(ReadOnlySpan<byte> bytes) => Convert.ToHexStringLower(bytes);

    /// <summary>A key made of one repeated byte: readable fixed keys for test vectors.</summary>
    public static byte[] Repeat(byte value, int length = 32) => Enumerable.Repeat(value, length).ToArray();

    /// <summary>Bytes first, first+1, … : readable fixed keys for test vectors.</summary>
    public static byte[] Counting(byte first, int length = 32) => Enumerable.Range(first, length).Select(i => (byte)i).ToArray();
}
