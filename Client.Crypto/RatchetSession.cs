namespace Natter.Client.Crypto;

/// <summary>
/// One Double Ratchet session with one remote device (https://signal.org/docs/specifications/doubleratchet/).
/// Decryption works on a copy of the state and keeps it only on success, so a forged, tampered or replayed
/// message leaves the session as it was. Not thread-safe: <see cref="E2eeDevice"/> serializes access.
/// </summary>
public sealed class RatchetSession
{
    /// <summary>The most message keys one step may skip: a message further ahead is refused.</summary>
    public const int MaxSkip = 1000;

    private const byte StateVersion = 1;

    private readonly Func<X25519KeyPair> _newKeyPair;
    private RatchetState _state;

    private RatchetSession(RatchetState state, Func<X25519KeyPair> newKeyPair)
    {
        _state = state;
        _newKeyPair = newKeyPair;
    }

    /// <summary>The remote device's Ed25519 identity key.</summary>
    public byte[] RemoteIdentityKey => _state.RemoteIdentityKey;

    /// <summary>The initiator's ephemeral key from X3DH: names the session in prekey messages.</summary>
    public byte[] BaseKey => _state.BaseKey;

    /// <summary>Set on the initiator until it hears back: until then its messages go out as prekey messages.</summary>
    public PreKeySetup? PendingSetup => _state.PendingSetup;

    internal RatchetState State => _state;

    /// <summary>X3DH with the bundle, then the initiator's first ratchet step towards the bundle's signed prekey.</summary>
    public static RatchetSession Initiate(IdentityKeyPair own, DevicePreKeyBundle bundle) => Initiate(own, bundle, X25519KeyPair.Generate);

    /// <summary>As <see cref="Initiate(IdentityKeyPair, DevicePreKeyBundle)"/>; key pairs come from <paramref name="newKeyPair"/>: X3DH's ephemeral first, then each ratchet key.</summary>
    internal static RatchetSession Initiate(IdentityKeyPair own, DevicePreKeyBundle bundle, Func<X25519KeyPair> newKeyPair)
    {
        var x3dh = X3dh.Initiate(own, bundle, newKeyPair);
        var sendingRatchetKey = newKeyPair();
        var dh = Dh.Agree(sendingRatchetKey, bundle.SignedPreKey) ?? throw new InvalidBundleException("Unusable signed prekey.");
        var (rootKey, sendingChainKey) = RatchetKdf.Root(x3dh.SharedKey, dh);
        var state = new RatchetState
        {
            RootKey = rootKey,
            SendingRatchetKey = sendingRatchetKey,
            ReceivingRatchetKey = bundle.SignedPreKey,
            SendingChainKey = sendingChainKey,
            AssociatedData = x3dh.AssociatedData,
            RemoteIdentityKey = bundle.IdentityKey,
            BaseKey = x3dh.Setup.BaseKey,
            PendingSetup = x3dh.Setup,
        };
        return new RatchetSession(state, newKeyPair);
    }

    /// <summary>The responder's side: RK = SK, its signed prekey as the first ratchet key; it can send once it has received.</summary>
    internal static RatchetSession Respond(X3dhResult x3dh, SignedPreKeyPair signedPreKey, Func<X25519KeyPair> newKeyPair)
    {
        var state = new RatchetState
        {
            RootKey = x3dh.SharedKey,
            SendingRatchetKey = signedPreKey.KeyPair,
            AssociatedData = x3dh.AssociatedData,
            RemoteIdentityKey = x3dh.Setup.IdentityKey,
            BaseKey = x3dh.Setup.BaseKey,
        };
        return new RatchetSession(state, newKeyPair);
    }

    public RatchetMessage Encrypt(ReadOnlySpan<byte> plaintext)
    {
        var chainKey = _state.SendingChainKey ?? throw new InvalidOperationException("A responder sends only after its first received message.");
        var (messageKey, nextChainKey) = RatchetKdf.Chain(chainKey);
        var header = new RatchetHeader(_state.SendingRatchetKey.PublicKey, _state.PreviousSendingCount, _state.SendingCount);
        _state.SendingChainKey = nextChainKey;
        _state.SendingCount++;
        var (key, nonce) = RatchetKdf.MessageKeys(messageKey);
        return new RatchetMessage(header, Aead.Encrypt(key, nonce, Bytes.Concat(_state.AssociatedData, header.ToBytes()), plaintext));
    }

    /// <summary>The plaintext; <see cref="InvalidMessageException"/> (or <see cref="DuplicateMessageException"/>) otherwise, state unchanged.</summary>
    public byte[] Decrypt(RatchetMessage message)
    {
        var working = _state.Clone();
        var plaintext = Decrypt(working, message);
        _state = working;
        return plaintext;
    }

    /// <summary>A separate session with a copy of the state: decrypt on it, keep it if it worked.</summary>
    internal RatchetSession Copy() => new(_state.Clone(), _newKeyPair);

    public byte[] Export()
    {
        var writer = new StateWriter().Byte(StateVersion);
        _state.WriteTo(writer);
        return writer.ToArray();
    }

    public static RatchetSession Import(byte[] state) => Import(state, X25519KeyPair.Generate);

    internal static RatchetSession Import(byte[] state, Func<X25519KeyPair> newKeyPair)
    {
        var reader = new StateReader(state);
        reader.ExpectVersion(StateVersion, "ratchet session");
        var ratchetState = RatchetState.ReadFrom(reader);
        reader.ExpectEnd();
        return new RatchetSession(ratchetState, newKeyPair);
    }

    private byte[] Decrypt(RatchetState state, RatchetMessage message)
    {
        var header = message.Header;
        if (state.Skipped.Take(header.RatchetKey, header.MessageNumber) is { } skippedKey) return Open(state, message, skippedKey);

        if (state.ReceivingRatchetKey is null || !Bytes.Equal(header.RatchetKey, state.ReceivingRatchetKey))
        {
            if (state.PreviousReceivingKeys.Any(k => Bytes.Equal(k, header.RatchetKey)))
                throw new DuplicateMessageException("The message's key is already used (or was dropped).");
            SkipMessageKeys(state, header.PreviousChainLength);
            StepRatchet(state, header.RatchetKey);
        }
        else if (header.MessageNumber < state.ReceivingCount)
        {
            throw new DuplicateMessageException("The message's key is already used (or was dropped).");
        }

        SkipMessageKeys(state, header.MessageNumber);
        var (messageKey, nextChainKey) = RatchetKdf.Chain(state.ReceivingChainKey!);
        state.ReceivingChainKey = nextChainKey;
        state.ReceivingCount++;
        return Open(state, message, messageKey);
    }

    private static byte[] Open(RatchetState state, RatchetMessage message, byte[] messageKey)
    {
        var (key, nonce) = RatchetKdf.MessageKeys(messageKey);
        var plaintext = Aead.Decrypt(key, nonce, Bytes.Concat(state.AssociatedData, message.Header.ToBytes()), message.Ciphertext)
            ?? throw new InvalidMessageException("The message does not decrypt: tampered with, or not for this session.");
        state.PendingSetup = null;
        return plaintext;
    }

    /// <summary>Stores the keys of the current receiving chain's messages before <paramref name="until"/>, at most <see cref="MaxSkip"/>.</summary>
    private static void SkipMessageKeys(RatchetState state, uint until)
    {
        if (state.ReceivingChainKey is null || state.ReceivingRatchetKey is null) return;
        if ((long)until - state.ReceivingCount > MaxSkip)
            throw new InvalidMessageException($"The message is more than {MaxSkip} messages ahead.");
        while (state.ReceivingCount < until)
        {
            var (messageKey, nextChainKey) = RatchetKdf.Chain(state.ReceivingChainKey);
            state.Skipped.Add(state.ReceivingRatchetKey, state.ReceivingCount, messageKey);
            state.ReceivingChainKey = nextChainKey;
            state.ReceivingCount++;
        }
    }

    private void StepRatchet(RatchetState state, byte[] remoteRatchetKey)
    {
        if (state.ReceivingRatchetKey is not null) state.RememberReceivingKey(state.ReceivingRatchetKey);
        state.PreviousSendingCount = state.SendingCount;
        state.SendingCount = 0;
        state.ReceivingCount = 0;
        state.ReceivingRatchetKey = remoteRatchetKey;
        (state.RootKey, state.ReceivingChainKey) = RatchetKdf.Root(state.RootKey, Agree(state.SendingRatchetKey, remoteRatchetKey));
        state.SendingRatchetKey = _newKeyPair();
        (state.RootKey, state.SendingChainKey) = RatchetKdf.Root(state.RootKey, Agree(state.SendingRatchetKey, remoteRatchetKey));
    }

    private static byte[] Agree(X25519KeyPair own, byte[] remote) =>
        Dh.Agree(own, remote) ?? throw new InvalidMessageException("The message's ratchet key is unusable.");
}
