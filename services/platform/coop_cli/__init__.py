"""`coop`, the admin command line, and `make run`'s process runner: outside the runtime
package, so a service image runs without them."""
