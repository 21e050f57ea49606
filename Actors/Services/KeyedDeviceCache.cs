using System.Collections.Concurrent;
using Natter.Messages;
using Natter.Messages.Users;

namespace Natter.Actors.Services;

/// <summary>A user's devices as the envelope check needs them: each device that takes sealed sends, with its identity key.</summary>
public sealed record KeyedDeviceSet(UserId UserId, IReadOnlyList<(DeviceId Device, byte[] IdentityKey)> Devices)
{
    /// <summary>Read from the cache rather than asked of the user's entity just now.</summary>
    public bool FromCache { get; init; }

    public static KeyedDeviceSet Of(UserReplies.KeyedDevices keyed) =>
        new(keyed.UserId, keyed.Devices.Select(d => (d.Device, d.IdentityKey)).ToList());
}

/// <summary>
/// An edge process's copy of users' <see cref="KeyedDeviceSet"/>s for the envelope check of sealed sends
/// (<see cref="ChatGateway.CheckEnvelopesAsync"/>), which otherwise asks every member's UserActor for every message:
/// 1,024 asks per message to a full group, each starting a passivated UserActor again.
/// <para>
/// A user's entry is dropped when the user's entity publishes <see cref="KeyedDevicesChanged"/> (after the change is
/// durable; <see cref="KeyedDeviceInvalidations"/> hears it), and expires after the time to live in any case, so an
/// invalidation lost on the way (a member unreachable, an edge whose subscription has not spread yet) is outlived by
/// at most that long. An answer to an ask that started before the user's last change is not kept: it may describe the
/// devices before it. The gateway uses an entry only to confirm a send: when the send's devices differ from it, it
/// asks the users concerned again before it refuses anything.
/// </para>
/// <para>Thread-safe: connections check their sends concurrently.</para>
/// </summary>
public sealed class KeyedDeviceCache
{
    private readonly ConcurrentDictionary<UserId, Entry> _entries = new();
    // When each user's devices last changed, as heard: kept for as long as an ask begun before could still be answered.
    private readonly ConcurrentDictionary<UserId, long> _changedAt = new();
    private readonly TimeSpan _timeToLive;
    private readonly int _capacity;
    private readonly TimeSpan _longestAsk;
    private readonly TimeProvider _clock;
    private bool _listening;

    /// <param name="timeToLive">How long an entry is used at most, counted from the ask that read it.</param>
    /// <param name="capacity">Users kept at most; beyond, expired entries are dropped, and new ones not kept until there is room.</param>
    /// <param name="askTimeout">The longest an ask for a user's devices may take (the gateway's timeout).</param>
    public KeyedDeviceCache(TimeSpan timeToLive, int capacity, TimeSpan askTimeout, TimeProvider? clock = null)
    {
        if (timeToLive <= TimeSpan.Zero) throw new ArgumentOutOfRangeException(nameof(timeToLive), "must be above zero");
        if (capacity < 1) throw new ArgumentOutOfRangeException(nameof(capacity), "must be at least 1");
        _timeToLive = timeToLive;
        _capacity = capacity;
        _longestAsk = askTimeout * 2;
        _clock = clock ?? TimeProvider.System;
    }

    public int Count => _entries.Count;

    /// <summary>
    /// Whether changes are heard (<see cref="KeyedDeviceInvalidations"/> is subscribed). Until then nothing is kept or
    /// found: a change published meanwhile would go unheard.
    /// </summary>
    public bool Listening
    {
        get => Volatile.Read(ref _listening);
        set => Volatile.Write(ref _listening, value);
    }

    public void Clear() => _entries.Clear();

    /// <summary>A timestamp to give <see cref="Keep"/> with the answer to an ask started now.</summary>
    public long Now() => _clock.GetTimestamp();

    /// <summary>The user's devices if kept and not expired.</summary>
    public KeyedDeviceSet? Find(UserId user)
    {
        if (!Listening || !_entries.TryGetValue(user, out var entry)) return null;
        if (_clock.GetElapsedTime(entry.AskedAt) < _timeToLive) return entry.Devices;
        _entries.TryRemove(KeyValuePair.Create(user, entry));
        return null;
    }

    /// <summary>Keeps the answer to an ask started at <paramref name="askedAt"/>, unless the user's devices changed since it started.</summary>
    public void Keep(KeyedDeviceSet devices, long askedAt)
    {
        var user = devices.UserId;
        if (!Listening || ChangedSince(user, askedAt)) return;
        if (_entries.Count >= _capacity && !_entries.ContainsKey(user))
        {
            DropExpired();
            if (_entries.Count >= _capacity) return;
        }
        var entry = new Entry(devices, askedAt);
        _entries[user] = entry;
        // A change heard between the check above and the store: Changed may have found nothing to drop yet.
        if (ChangedSince(user, askedAt)) _entries.TryRemove(KeyValuePair.Create(user, entry));
    }

    /// <summary>The user's devices changed: drops the entry, and refuses answers to asks started before now.</summary>
    public void Changed(UserId user)
    {
        var now = _clock.GetTimestamp();
        _changedAt[user] = now;
        _entries.TryRemove(user, out _);
        if (_changedAt.Count > _capacity) ForgetOldChanges();
    }

    private bool ChangedSince(UserId user, long askedAt) => _changedAt.TryGetValue(user, out var changed) && changed >= askedAt;

    private void DropExpired()
    {
        foreach (var (user, entry) in _entries)
            if (_clock.GetElapsedTime(entry.AskedAt) >= _timeToLive) _entries.TryRemove(KeyValuePair.Create(user, entry));
    }

    private void ForgetOldChanges()
    {
        foreach (var (user, at) in _changedAt)
            if (_clock.GetElapsedTime(at) > _longestAsk) _changedAt.TryRemove(KeyValuePair.Create(user, at));
    }

    private sealed record Entry(KeyedDeviceSet Devices, long AskedAt);
}
