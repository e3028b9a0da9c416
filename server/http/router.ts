// Every router of the appliance matches paths case-sensitively and strictly (no optional trailing slash), the
// same way the access gate (access.ts) matches its rules, so a route and its rule can never disagree.
import { Router } from 'express';

export function strictRouter(): Router {
  return Router({ caseSensitive: true, strict: true });
}
