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
/// invalidation lost on the way (a member unreachable, a subscription not yet spread to a member) is outlived by at most
/// that long. An answer to an ask that started before the user's last change, or before a spell in which changes may
/// have gone unheard ended (<see cref="Listen"/>), is not kept: it may describe the devices before a change. The
/// gateway uses an entry only to confirm a send: when the send's devices differ from it, it asks the users concerned
/// again before it refuses anything.
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
    private long _keepAskedFrom = long.MaxValue;
    private int _count; // of _entries, kept apart: ConcurrentDictionary.Count takes every lock
    private long _lastSweep;
    private long _lastForget;

    /// <param name="timeToLive">How long an entry is used at most, counted from the ask that read it.</param>
    /// <param name="capacity">Users kept at most; when full, expired entries are dropped (at most every quarter of the
    /// time to live), and new users are not kept until there is room.</param>
    /// <param name="askTimeout">The longest an ask for a user's devices may take (the gateway's timeout).</param>
    public KeyedDeviceCache(TimeSpan timeToLive, int capacity, TimeSpan askTimeout, TimeProvider? clock = null)
    {
        if (timeToLive <= TimeSpan.Zero) throw new ArgumentOutOfRangeException(nameof(timeToLive), "must be above zero");
        if (capacity < 1) throw new ArgumentOutOfRangeException(nameof(capacity), "must be at least 1");
        if (askTimeout <= TimeSpan.Zero) throw new ArgumentOutOfRangeException(nameof(askTimeout), "must be above zero");
        _timeToLive = timeToLive;
        _capacity = capacity;
        _longestAsk = askTimeout * 2;
        _clock = clock ?? TimeProvider.System;
        _lastSweep = _lastForget = _clock.GetTimestamp();
    }

    public int Count => _entries.Count;

    /// <summary>Whether changes are heard (<see cref="KeyedDeviceInvalidations"/> is subscribed). Until then nothing is kept or found.</summary>
    public bool Listening => Volatile.Read(ref _listening);

    /// <summary>
    /// Changes are heard from now on, or may have gone unheard until now (a member came up or became reachable again,
    /// and learns of the subscription only by gossip): drops everything, and keeps answers only to asks started once
    /// <paramref name="grace"/> has passed, the time the subscription is given to spread.
    /// </summary>
    public void Listen(TimeSpan grace)
    {
        Interlocked.Exchange(ref _keepAskedFrom, _clock.GetTimestamp() + (long)(grace.TotalSeconds * _clock.TimestampFrequency));
        Clear();
        Volatile.Write(ref _listening, true);
    }

    /// <summary>Changes are no longer heard: nothing is kept or found any more.</summary>
    public void StopListening()
    {
        Volatile.Write(ref _listening, false);
        Clear();
    }

    /// <summary>A timestamp to give <see cref="Keep"/> with the answer to an ask started now.</summary>
    public long Now() => _clock.GetTimestamp();

    /// <summary>The user's devices if kept and not expired.</summary>
    public KeyedDeviceSet? Find(UserId user)
    {
        if (!Listening || !_entries.TryGetValue(user, out var entry)) return null;
        if (_clock.GetElapsedTime(entry.AskedAt) < _timeToLive) return entry.Devices;
        Remove(user, entry);
        return null;
    }

    /// <summary>Keeps the answer to an ask started at <paramref name="askedAt"/>, unless it may predate a change.</summary>
    public void Keep(KeyedDeviceSet devices, long askedAt)
    {
        var user = devices.UserId;
        // An answer later than any ask could take may come from before a change whose record is forgotten.
        if (!Listening || askedAt < Volatile.Read(ref _keepAskedFrom) || _clock.GetElapsedTime(askedAt) >= _longestAsk
            || ChangedSince(user, askedAt)) return;
        var entry = new Entry(devices with { FromCache = true }, askedAt);
        if (_entries.TryGetValue(user, out var kept))
        {
            if (!_entries.TryUpdate(user, entry, kept)) return;
            Interlocked.MemoryBarrier();
        }
        else
        {
            if (Volatile.Read(ref _count) >= _capacity && !SweepExpired()) return;
            if (!_entries.TryAdd(user, entry)) return;
            Interlocked.Increment(ref _count);
        }
        // A change heard, or a fresh start, between the check above and the store: Changed or Listen may have found
        // nothing to drop yet.
        if (ChangedSince(user, askedAt) || askedAt < Volatile.Read(ref _keepAskedFrom) || !Listening) Remove(user, entry);
    }

    /// <summary>The user's devices changed: drops the entry, and refuses answers to asks started before now.</summary>
    public void Changed(UserId user)
    {
        var now = _clock.GetTimestamp();
        _changedAt.AddOrUpdate(user, now, (_, before) => Math.Max(before, now));
        if (_entries.TryRemove(user, out _)) Interlocked.Decrement(ref _count);
        if (Due(ref _lastForget, _longestAsk)) ForgetOldChanges();
    }

    private void Clear()
    {
        foreach (var (user, entry) in _entries) Remove(user, entry);
    }

    private void Remove(UserId user, Entry entry)
    {
        if (_entries.TryRemove(KeyValuePair.Create(user, entry))) Interlocked.Decrement(ref _count);
    }

    private bool ChangedSince(UserId user, long askedAt) => _changedAt.TryGetValue(user, out var changed) && changed >= askedAt;

    /// <summary>Drops expired entries, at most once a quarter of the time to live (a full scan); whether there is room now.</summary>
    private bool SweepExpired()
    {
        if (Due(ref _lastSweep, _timeToLive / 4))
            foreach (var (user, entry) in _entries)
                if (_clock.GetElapsedTime(entry.AskedAt) >= _timeToLive) Remove(user, entry);
        return Volatile.Read(ref _count) < _capacity;
    }

    private void ForgetOldChanges()
    {
        foreach (var (user, at) in _changedAt)
            if (_clock.GetElapsedTime(at) > _longestAsk) _changedAt.TryRemove(KeyValuePair.Create(user, at));
    }

    /// <summary>True for one caller once <paramref name="every"/> has passed since the last time it was true.</summary>
    private bool Due(ref long last, TimeSpan every)
    {
        var before = Volatile.Read(ref last);
        if (_clock.GetElapsedTime(before) < every) return false;
        return Interlocked.CompareExchange(ref last, _clock.GetTimestamp(), before) == before;
    }

    private sealed record Entry(KeyedDeviceSet Devices, long AskedAt);
}
