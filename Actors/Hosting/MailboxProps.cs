using Akka.Actor;

namespace Natter.Actors.Hosting;

/// <summary>What the compact mailboxes' <c>Apply</c> may rebuild on a shared deployment, and nothing else.</summary>
internal static class MailboxProps
{
    private static readonly Deploy DefaultDeploy = Props.Empty.Deploy;

    /// <summary>
    /// The arguments of <paramref name="props"/>, if a type and its arguments are all it says: a rebuilt Props keeps
    /// no supervisor strategy, deployment (dispatcher, router) or factory of its own, so those are refused.
    /// </summary>
    public static object[] PlainArguments(Props props) =>
        props.GetType() == typeof(Props) && props.SupervisorStrategy is null && props.Deploy.Equals(DefaultDeploy)
            ? props.Arguments
            : throw new ArgumentException(
                $"only a plain Props (type and arguments) can share the mailbox's deployment; {props.Type.Name}'s has its own", nameof(props));
}
