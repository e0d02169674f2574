"""The seven stages, one module each; `services.stages.registry` maps numbers and keys to them."""
