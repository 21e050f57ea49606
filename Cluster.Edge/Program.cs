using Natter.Cluster.Edge;

// The embedded default: this one process serves /ws and /api and hosts every entity, on SQLite under ./data.
var app = EdgeHost.Build(args);
app.Run();

/// <summary>Visible to tests that host the edge in-process.</summary>
public partial class Program;
