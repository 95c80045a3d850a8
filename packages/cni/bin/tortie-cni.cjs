#!/usr/bin/env node
// The shipped bundle (`pnpm build` makes it): `tortie-cni install | daemon | ...`.
require('../dist/bundle/tortie-cni');
