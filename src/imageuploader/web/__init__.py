"""HTTP plumbing shared by controllers: auth, dependencies, error mapping."""
