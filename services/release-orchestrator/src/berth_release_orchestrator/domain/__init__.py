"""Pure release logic: templates, strategies, the release state machine, analysis, manifests, configs."""
