using Akka.Actor;

namespace Natter.Actors.Hosting;

/// <summary>
/// The compact mailboxes' shared deployments: one <see cref="Deploy"/> per mailbox for every actor on it, where
/// <c>Props.WithMailbox</c> makes one per actor, which the actor's cell keeps for its life.
/// </summary>
internal static class MailboxProps
{
    private static readonly Deploy DefaultDeploy = Props.Empty.Deploy;

    /// <summary>The deployment every actor on the mailbox at <paramref name="configPath"/> shares.</summary>
    public static Deploy SharedDeployFor(string configPath) => Props.Empty.WithMailbox(configPath).Deploy;

    /// <summary>
    /// <paramref name="props"/> on <paramref name="shared"/>, if a type and its arguments are all it says: the rebuilt
    /// Props keeps no supervisor strategy, deployment (dispatcher, router) or factory of its own, so those are refused.
    /// </summary>
    public static Props OnSharedDeploy(Props props, Deploy shared) =>
        props.GetType() == typeof(Props) && props.SupervisorStrategy is null && props.Deploy.Equals(DefaultDeploy)
            ? new Props(shared, props.Type, props.Arguments)
            : throw new ArgumentException(
                $"only a plain Props (type and arguments) can share the mailbox's deployment; {props.Type.Name}'s has its own", nameof(props));
}
