"""Pure alerting logic: payload model, matching, routing, templates, splitting, signing, limits."""
