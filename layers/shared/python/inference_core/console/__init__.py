"""The web console: a small client app (plain ES modules, no build step) in `static/`, served under
`/console` by the control plane and talking to the gateway only through its public API."""
