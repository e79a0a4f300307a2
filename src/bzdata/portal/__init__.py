"""The portal: a Chinese web front door over the published snapshot (bzdata serve)."""
