namespace Natter.Client.Crypto;

/// <summary>
/// What one device receives for one message. Ratchet message: 0x02 || header (40) || ciphertext.
/// Prekey message, sent until the initiator has heard back: 0x01 || setup (104, see <see cref="PreKeySetup"/>) || ratchet message.
/// </summary>
public static class Envelope
{
    public const byte PreKeyMessageType = 0x01;
    public const byte RatchetMessageType = RatchetMessage.Type;

    public static byte[] Seal(RatchetSession session, ReadOnlySpan<byte> plaintext)
    {
        var message = session.Encrypt(plaintext).ToBytes();
        return session.PendingSetup is { } setup ? Bytes.Concat([PreKeyMessageType], setup.ToBytes(), message) : message;
    }

    public static EnvelopeContents Parse(ReadOnlySpan<byte> envelope)
    {
        if (envelope.IsEmpty) throw new InvalidMessageException("Empty envelope.");
        return envelope[0] switch
        {
            PreKeyMessageType when envelope.Length > 1 + PreKeySetup.Size =>
                new EnvelopeContents(PreKeySetup.Parse(envelope[1..(1 + PreKeySetup.Size)]), RatchetMessage.Parse(envelope[(1 + PreKeySetup.Size)..])),
            RatchetMessageType => new EnvelopeContents(null, RatchetMessage.Parse(envelope)),
            _ => throw new InvalidMessageException("Not an envelope."),
        };
    }

    /// <summary>
    /// Decrypts with the record's sessions, or sets up a session from a prekey message (whose identity keys must
    /// match <paramref name="sender"/>). The record and keys change only when decryption succeeded.
    /// </summary>
    public static byte[] Open(SessionRecord record, DeviceKeys own, byte[] envelope, DeviceIdentity? sender)
    {
        var opened = Prepare(record, own, envelope, sender, X25519KeyPair.Generate);
        opened.Commit();
        return opened.Plaintext;
    }

    internal static OpenedEnvelope Prepare(SessionRecord record, DeviceKeys own, ReadOnlySpan<byte> envelope, DeviceIdentity? sender,
        Func<X25519KeyPair> newKeyPair)
    {
        var contents = Parse(envelope);
        if (contents.Setup is not { } setup) return DecryptWithAny(record, record.Sessions, contents.Message);
        if (record.FindBySetup(setup) is { } existing) return DecryptWithAny(record, [existing], contents.Message);

        var x3dh = X3dh.Respond(own, setup, sender);
        var session = RatchetSession.Respond(x3dh, own.FindSignedPreKey(setup.SignedPreKeyId)!, newKeyPair);
        var plaintext = session.Decrypt(contents.Message);
        return new OpenedEnvelope(plaintext, setUpSession: true, () =>
        {
            own.MarkUsed(setup.SignedPreKeyId, setup.OneTimePreKeyId, setup.BaseKey);
            record.Promote(null, session);
        });
    }

    private static OpenedEnvelope DecryptWithAny(SessionRecord record, IReadOnlyList<RatchetSession> sessions, RatchetMessage message)
    {
        InvalidMessageException? failure = null;
        foreach (var session in sessions)
        {
            var candidate = session.Copy();
            try
            {
                var plaintext = candidate.Decrypt(message);
                return new OpenedEnvelope(plaintext, setUpSession: false, () => record.Promote(session, candidate));
            }
            catch (DuplicateMessageException)
            {
                throw;
            }
            catch (InvalidMessageException e)
            {
                failure ??= e;
            }
        }
        throw failure ?? new InvalidMessageException("No session with the sender device.");
    }
}
