using System.Text;

namespace Natter.Client.Crypto;

/// <summary>Reads what <see cref="StateWriter"/> wrote; a truncated or foreign state is an <see cref="InvalidDataException"/>.</summary>
internal sealed class StateReader(ReadOnlyMemory<byte> state)
{
    private int _offset;

    public byte Byte() => Fixed(1)[0];

    public uint U32() => Bytes.ReadU32(Fixed(4));

    public byte[] Fixed(int length)
    {
        if (length < 0 || _offset + length > state.Length) throw new InvalidDataException("The stored state is truncated.");
        var bytes = state.Slice(_offset, length).ToArray();
        _offset += length;
        return bytes;
    }

    public byte[] Blob()
    {
        var length = U32();
        return length <= int.MaxValue ? Fixed((int)length) : throw new InvalidDataException("The stored state is corrupt.");
    }

    public string String() => Encoding.UTF8.GetString(Blob());

    public bool Flag() => Byte() switch
    {
        0 => false,
        1 => true,
        _ => throw new InvalidDataException("The stored state is corrupt."),
    };

    public void ExpectVersion(byte version, string what)
    {
        if (Byte() != version) throw new InvalidDataException($"Not a version {version} {what} state.");
    }

    public void ExpectEnd()
    {
        if (_offset != state.Length) throw new InvalidDataException("The stored state has trailing bytes.");
    }
}
