"""dr-switcher's pure domain: group specs, site health, the group state machine, drills."""
