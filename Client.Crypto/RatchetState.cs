namespace Natter.Client.Crypto;

/// <summary>
/// The variables of Signal's Double Ratchet spec, plus what Natter needs around them: whom the session is
/// with, the base key it was set up with, and the setup to repeat until the initiator hears back.
/// Byte arrays are never modified in place, only replaced, so a shallow copy of them is a safe clone.
/// </summary>
internal sealed class RatchetState
{
    public const int MaxPreviousReceivingKeys = 10;

    public required byte[] RootKey { get; set; }
    public required X25519KeyPair SendingRatchetKey { get; set; }
    public byte[]? ReceivingRatchetKey { get; set; }
    public byte[]? SendingChainKey { get; set; }
    public byte[]? ReceivingChainKey { get; set; }
    public uint SendingCount { get; set; }
    public uint ReceivingCount { get; set; }
    public uint PreviousSendingCount { get; set; }
    public required byte[] AssociatedData { get; set; }
    public required byte[] RemoteIdentityKey { get; init; }
    public required byte[] BaseKey { get; init; }
    public PreKeySetup? PendingSetup { get; set; }

    /// <summary>Ratchet keys of finished receiving chains: a message on one of them with no skipped key left is a replay.</summary>
    public List<byte[]> PreviousReceivingKeys { get; private init; } = [];

    public SkippedMessageKeys Skipped { get; private init; } = new();

    public RatchetState Clone() => new()
    {
        RootKey = RootKey,
        SendingRatchetKey = SendingRatchetKey,
        ReceivingRatchetKey = ReceivingRatchetKey,
        SendingChainKey = SendingChainKey,
        ReceivingChainKey = ReceivingChainKey,
        SendingCount = SendingCount,
        ReceivingCount = ReceivingCount,
        PreviousSendingCount = PreviousSendingCount,
        AssociatedData = AssociatedData,
        RemoteIdentityKey = RemoteIdentityKey,
        BaseKey = BaseKey,
        PendingSetup = PendingSetup,
        PreviousReceivingKeys = [.. PreviousReceivingKeys],
        Skipped = Skipped.Clone(),
    };

    public void RememberReceivingKey(byte[] ratchetKey)
    {
        PreviousReceivingKeys.Add(ratchetKey);
        if (PreviousReceivingKeys.Count > MaxPreviousReceivingKeys) PreviousReceivingKeys.RemoveAt(0);
    }

    public void WriteTo(StateWriter writer)
    {
        writer.Fixed(RootKey).Fixed(SendingRatchetKey.PrivateKey);
        WriteOptional(writer, ReceivingRatchetKey);
        WriteOptional(writer, SendingChainKey);
        WriteOptional(writer, ReceivingChainKey);
        writer.U32(SendingCount).U32(ReceivingCount).U32(PreviousSendingCount)
            .Fixed(AssociatedData).Fixed(RemoteIdentityKey).Fixed(BaseKey)
            .Flag(PendingSetup is not null);
        if (PendingSetup is not null) writer.Fixed(PendingSetup.ToBytes());
        writer.U32((uint)PreviousReceivingKeys.Count);
        foreach (var key in PreviousReceivingKeys) writer.Fixed(key);
        writer.U32((uint)Skipped.Count);
        foreach (var skipped in Skipped.Entries) writer.Fixed(skipped.RatchetKey).U32(skipped.MessageNumber).Fixed(skipped.MessageKey);
    }

    public static RatchetState ReadFrom(StateReader reader)
    {
        var state = new RatchetState
        {
            RootKey = reader.Fixed(32),
            SendingRatchetKey = X25519KeyPair.FromPrivate(reader.Fixed(32)),
            ReceivingRatchetKey = ReadOptional(reader),
            SendingChainKey = ReadOptional(reader),
            ReceivingChainKey = ReadOptional(reader),
            SendingCount = reader.U32(),
            ReceivingCount = reader.U32(),
            PreviousSendingCount = reader.U32(),
            AssociatedData = reader.Fixed(64),
            RemoteIdentityKey = reader.Fixed(32),
            BaseKey = reader.Fixed(32),
        };
        if (reader.Flag()) state.PendingSetup = PreKeySetup.Parse(reader.Fixed(PreKeySetup.Size));
        for (var count = reader.U32(); count > 0; count--) state.PreviousReceivingKeys.Add(reader.Fixed(32));
        for (var count = reader.U32(); count > 0; count--) state.Skipped.Add(reader.Fixed(32), reader.U32(), reader.Fixed(32));
        return state;
    }

    private static void WriteOptional(StateWriter writer, byte[]? key)
    {
        writer.Flag(key is not null);
        if (key is not null) writer.Fixed(key);
    }

    private static byte[]? ReadOptional(StateReader reader) => reader.Flag() ? reader.Fixed(32) : null;
}
