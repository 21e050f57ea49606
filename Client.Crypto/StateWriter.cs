using System.Text;

namespace Natter.Client.Crypto;

/// <summary>Writes the private, versioned persistence format of keys and sessions (never sent over the wire).</summary>
internal sealed class StateWriter
{
    private readonly MemoryStream _stream = new();

    public StateWriter Byte(byte value)
    {
        _stream.WriteByte(value);
        return this;
    }

    public StateWriter U32(uint value) => Fixed(Bytes.U32(value));

    public StateWriter Fixed(ReadOnlySpan<byte> bytes)
    {
        _stream.Write(bytes);
        return this;
    }

    /// <summary>Length-prefixed bytes.</summary>
    public StateWriter Blob(ReadOnlySpan<byte> bytes) => U32((uint)bytes.Length).Fixed(bytes);

    public StateWriter String(string value) => Blob(Encoding.UTF8.GetBytes(value));

    public StateWriter Flag(bool present) => Byte(present ? (byte)1 : (byte)0);

    public byte[] ToArray() => _stream.ToArray();
}
