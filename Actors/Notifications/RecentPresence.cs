using System.Collections.Concurrent;
using Natter.Actors.Presence;
using Natter.Messages;

namespace Natter.Actors.Notifications;

/// <summary>
/// Presence answers the notification projection reuses for a moment. A message to a group of 1,024 asks about
/// 1,023 members; without reuse, every message of a busy group asked each of them again (its presence entity,
/// through the same region as the live pushes). An answer is reused for <c>reuse</c>, both ways: a member who goes
/// offline within that time gets no push for the messages of those moments (they still arrive at the next
/// connection, like every stored message), and one who comes online may get a push for a message already delivered.
/// The projection's journal query itself polls once a second, so its answers were never fresher than that. Asks
/// under way are shared (best effort: two messages resolved at the same moment may both ask); a failed one is not
/// reused. Ages come from a monotonic clock, so a wall-clock step cannot freeze an answer.
/// </summary>
public sealed class RecentPresence(TimeSpan reuse, TimeProvider time)
{
    private readonly ConcurrentDictionary<UserId, (Task<PresenceCommands.PresenceStatus> Answer, long AskedAt)> _answers = new();

    public int Count => _answers.Count;

    public Task<PresenceCommands.PresenceStatus> GetAsync(UserId user, Func<UserId, Task<PresenceCommands.PresenceStatus>> ask)
    {
        var now = time.GetTimestamp();
        if (_answers.TryGetValue(user, out var known) && Fresh(known.AskedAt, now) && !known.Answer.IsFaulted && !known.Answer.IsCanceled)
            return known.Answer;
        var answer = ask(user);
        if (reuse > TimeSpan.Zero) _answers[user] = (answer, now);
        return answer;
    }

    /// <summary>Forgets the answers too old to reuse (called once per published batch, so the map holds about one reuse time of recipients).</summary>
    public void Prune()
    {
        var now = time.GetTimestamp();
        foreach (var (user, known) in _answers)
            if (!Fresh(known.AskedAt, now))
                _answers.TryRemove(new KeyValuePair<UserId, (Task<PresenceCommands.PresenceStatus>, long)>(user, known));
    }

    private bool Fresh(long askedAt, long now) => time.GetElapsedTime(askedAt, now) < reuse;
}
