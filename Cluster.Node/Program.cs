using Natter.Cluster.Node;

NodeHost.Build(args).Run();
