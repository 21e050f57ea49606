using System.Collections.Concurrent;
using Natter.Actors.Presence;
using Natter.Messages;

namespace Natter.Actors.Notifications;

/// <summary>
/// Presence answers the notification projection reuses for a moment. A message to a group of 1,024 asks about
/// 1,023 members; without reuse, every message of a busy group asked each of them again (its presence entity,
/// through the same region as the live pushes). An answer is reused for <c>reuse</c>: a member who goes offline
/// within that time gets no push for the messages of those moments, as if the projection had read them a moment
/// earlier (it reads the journal about a second behind anyway, and the dispatcher collapses a chat's pushes to a
/// recipient over a longer window). Asks under way are shared; a failed one is not reused.
/// </summary>
public sealed class RecentPresence(TimeSpan reuse, Func<DateTimeOffset> clock)
{
    private readonly ConcurrentDictionary<UserId, (Task<PresenceCommands.PresenceStatus> Answer, DateTimeOffset At)> _answers = new();

    public int Count => _answers.Count;

    public Task<PresenceCommands.PresenceStatus> GetAsync(UserId user, Func<UserId, Task<PresenceCommands.PresenceStatus>> ask)
    {
        var now = clock();
        if (_answers.TryGetValue(user, out var known) && now - known.At < reuse && !known.Answer.IsFaulted && !known.Answer.IsCanceled)
            return known.Answer;
        var answer = ask(user);
        if (reuse > TimeSpan.Zero) _answers[user] = (answer, now);
        return answer;
    }

    /// <summary>Forgets the answers too old to reuse (called once per published batch, so the map holds about one reuse time of recipients).</summary>
    public void Prune()
    {
        var now = clock();
        foreach (var (user, known) in _answers)
            if (now - known.At >= reuse) _answers.TryRemove(new KeyValuePair<UserId, (Task<PresenceCommands.PresenceStatus>, DateTimeOffset)>(user, known));
    }
}
