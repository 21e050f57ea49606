namespace Natter.Actors.Hosting;

/// <summary>Command-line arguments for the processes' host builders.</summary>
public static class HostArguments
{
    /// <summary>
    /// The arguments plus one that turns off reloading appsettings on change. Settings change by a restart
    /// (a rollout in Kubernetes), and a reloadable appsettings.json watches the whole content root recursively,
    /// which by default holds ./data: every journal and WAL write then woke the file watcher, about 5% of an
    /// edge's CPU under load. First, so that a trailing switch without a value cannot take it as its value.
    /// </summary>
    public static string[] WithoutConfigReload(string[] args) => ["--hostBuilder:reloadConfigOnChange=false", .. args];
}
