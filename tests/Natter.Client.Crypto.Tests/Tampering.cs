namespace Natter.Client.Crypto.Tests;

internal static class Tampering
{
    public static byte[] Flip(byte[] bytes, int index, byte mask = 0x01)
    {
        var copy = (byte[])bytes.Clone();
        copy[index] ^= mask;
        return copy;
    }
}
