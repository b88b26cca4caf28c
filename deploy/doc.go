// Package deploy holds the recipes for running Gatehouse in production:
// gatehouse.service, a hardened systemd unit, and Dockerfile, a two-stage
// container build (context: the repository root). It has no code of its
// own; its tests check the recipes with the tools that run them
// (systemd-analyze) and, where no such tool runs here (no container
// engine), run the binary the recipe builds the way the recipe runs it.
// scripts/release, the release build, is tested here too.
package deploy
