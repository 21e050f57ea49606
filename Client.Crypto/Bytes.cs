using System.Buffers.Binary;
using System.Security.Cryptography;

namespace Natter.Client.Crypto;

/// <summary>Byte helpers for the wire formats, where every integer is big-endian.</summary>
internal static class Bytes
{
    public static byte[] Concat(params ReadOnlySpan<byte[]> parts)
    {
        var length = 0;
        foreach (var part in parts) length += part.Length;
        var result = new byte[length];
        var offset = 0;
        foreach (var part in parts)
        {
            part.CopyTo(result, offset);
            offset += part.Length;
        }
        return result;
    }

    public static byte[] U32(uint value)
    {
        var bytes = new byte[4];
        BinaryPrimitives.WriteUInt32BigEndian(bytes, value);
        return bytes;
    }

    public static uint ReadU32(ReadOnlySpan<byte> from) => BinaryPrimitives.ReadUInt32BigEndian(from);

    /// <summary>Constant time, so comparing keys leaks nothing about where they differ.</summary>
    public static bool Equal(ReadOnlySpan<byte> a, ReadOnlySpan<byte> b) => CryptographicOperations.FixedTimeEquals(a, b);

    public static byte[] Zeros(int length) => new byte[length];
}
