namespace Natter.Client.Crypto;

/// <summary>
/// The sessions with one remote device: the current one first, then up to <see cref="MaxPreviousSessions"/>
/// older ones. When both sides start a session at once, each side ends up with two; messages of either
/// still open, and the one that last decrypted becomes current, so the two sides converge on one session.
/// </summary>
public sealed class SessionRecord
{
    public const int MaxPreviousSessions = 5;
    private const byte StateVersion = 1;

    private readonly List<RatchetSession> _sessions = [];

    public RatchetSession? Current => _sessions.Count > 0 ? _sessions[0] : null;
    public bool HasSession => _sessions.Count > 0;
    internal IReadOnlyList<RatchetSession> Sessions => _sessions;

    /// <summary>The session a prekey message belongs to, when it was already set up (a later or repeated prekey message).</summary>
    internal RatchetSession? FindBySetup(PreKeySetup setup) =>
        _sessions.FirstOrDefault(s => Bytes.Equal(s.BaseKey, setup.BaseKey) && Bytes.Equal(s.RemoteIdentityKey, setup.IdentityKey));

    /// <summary>Makes <paramref name="session"/> current, in place of <paramref name="replaced"/> (the state it was copied from) if any.</summary>
    internal void Promote(RatchetSession? replaced, RatchetSession session)
    {
        if (replaced is not null) _sessions.Remove(replaced);
        _sessions.Insert(0, session);
        if (_sessions.Count > 1 + MaxPreviousSessions) _sessions.RemoveRange(1 + MaxPreviousSessions, _sessions.Count - 1 - MaxPreviousSessions);
    }

    public byte[] Export()
    {
        var writer = new StateWriter().Byte(StateVersion).U32((uint)_sessions.Count);
        foreach (var session in _sessions) writer.Blob(session.Export());
        return writer.ToArray();
    }

    public static SessionRecord Import(byte[] state) => Import(state, X25519KeyPair.Generate);

    internal static SessionRecord Import(byte[] state, Func<X25519KeyPair> newKeyPair)
    {
        var reader = new StateReader(state);
        reader.ExpectVersion(StateVersion, "session record");
        var record = new SessionRecord();
        for (var count = reader.U32(); count > 0; count--) record._sessions.Add(RatchetSession.Import(reader.Blob(), newKeyPair));
        reader.ExpectEnd();
        return record;
    }
}
