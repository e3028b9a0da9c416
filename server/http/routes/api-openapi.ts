// The OpenAPI 3 description of /api/v1. A test checks that every route the API serves is listed here.
import { NODE_STATES, ROLES } from '../../domain/types.ts';
import { PREVIEW_KINDS } from './api-preview.ts';

type Schema = Record<string, unknown>;
const ref = (name: string): Schema => ({ $ref: `#/components/schemas/${name}` });
const json = (schema: Schema) => ({ 'application/json': { schema } });

const errors = {
  '400': { description: 'invalid value (error.field names it)', content: json(ref('Error')) },
  '401': { description: 'no session or API token', content: json(ref('Error')) },
  '403': { description: 'session without the right CSRF token, or a role that may not do this (viewer: read only; operator: no cluster settings or secrets)', content: json(ref('Error')) },
};
const notFound = { '404': { description: 'no such node', content: json(ref('Error')) } };
const conflict = { '409': { description: 'conflict, or a state change the lifecycle refuses (message says why)', content: json(ref('Error')) } };
const nodeRef = { name: 'ref', in: 'path', required: true, description: 'node id, MAC or hostname', schema: { type: 'string' } };
const ok = (description: string, schema: Schema) => ({ '200': { description, content: json(schema) } });
const body = (schema: Schema) => ({ required: true, content: json(schema) });

const nodeSettings: Schema = {
  type: 'object',
  additionalProperties: false,
  properties: {
    hostname: { type: 'string' },
    roles: { type: 'array', items: { type: 'string', enum: [...ROLES] } },
    profile: { type: 'string' },
    managementAddress: { type: ['string', 'null'], format: 'ipv4' },
    tunnelAddress: { type: ['string', 'null'], format: 'ipv4' },
    storageAddress: { type: ['string', 'null'], format: 'ipv4' },
    interfaces: {
      type: 'object',
      additionalProperties: false,
      properties: { management: { type: 'string' }, tunnel: { type: 'string' }, external: { type: 'string' }, storage: { type: 'string' } },
    },
    disks: { type: 'array', items: { type: 'string' } },
    bootloader: { type: 'string', enum: ['ipxe', 'pxelinux'] },
    secureBoot: { type: 'boolean', description: 'UEFI boots the signed shim and GRUB (Secure Boot) instead of iPXE' },
  },
};

export function openApiDocument(): Schema {
  return {
    openapi: '3.1.0',
    info: { title: 'racklift appliance API', version: '1', description: 'Nodes, their lifecycle, events, stage runs, cluster settings and profiles.' },
    servers: [{ url: '/api/v1' }],
    security: [{ bearer: [] }, { session: [] }],
    paths: {
      '/whoami': { get: { summary: 'the authenticated user', responses: { ...ok('user', { type: 'object' }), ...errors } } },
      '/nodes': {
        get: {
          summary: 'one page of nodes in id order, filtered; follow `next` (as `after`) for the following page',
          parameters: [
            { name: 'state', in: 'query', schema: { type: 'string', enum: [...NODE_STATES] } },
            { name: 'role', in: 'query', schema: { type: 'string', enum: [...ROLES] } },
            { name: 'q', in: 'query', description: 'part of a MAC, hostname or management address', schema: { type: 'string', maxLength: 100 } },
            { name: 'limit', in: 'query', schema: { type: 'integer', minimum: 1, maximum: 10000, default: 100 } },
            { name: 'after', in: 'query', description: 'cursor: only nodes with a larger id (the `next` of the previous page)', schema: { type: 'integer', minimum: 0 } },
            { name: 'offset', in: 'query', description: 'nodes to skip (after the cursor, if any)', schema: { type: 'integer', minimum: 0 } },
          ],
          responses: {
            ...ok('nodes', {
              type: 'object',
              properties: {
                nodes: { type: 'array', items: ref('Node') },
                total: { type: 'integer', description: 'nodes matching the filters' },
                limit: { type: 'integer' },
                next: { type: ['integer', 'null'], description: 'pass as `after` for the following page; null on the last page' },
              },
            }),
            ...errors,
          },
        },
        post: {
          summary: 'register a node by MAC (assigned at once when a profile is given)',
          requestBody: body({ allOf: [{ type: 'object', required: ['mac'], properties: { mac: { type: 'string' } } }, nodeSettings] }),
          responses: { '201': { description: 'created', content: json(ref('Node')) }, ...errors, ...conflict },
        },
      },
      '/nodes/{ref}': {
        parameters: [nodeRef],
        get: { summary: 'one node', responses: { ...ok('node', ref('Node')), ...errors, ...notFound } },
        patch: { summary: 'change settings (no state change)', requestBody: body(nodeSettings), responses: { ...ok('node', ref('Node')), ...errors, ...notFound, ...conflict } },
        delete: { summary: 'forget the node (its events are kept)', responses: { ...ok('the forgotten node', ref('Node')), ...errors, ...notFound } },
      },
      '/nodes/{ref}/assign': {
        parameters: [nodeRef],
        post: { summary: 'set role, profile, hostname, address and move discovered -> assigned', requestBody: body(nodeSettings), responses: { ...ok('node', ref('Node')), ...errors, ...notFound, ...conflict } },
      },
      '/nodes/{ref}/reimage': {
        parameters: [nodeRef],
        post: {
          summary: 're-image from scratch (new install generation and token); with power: true, then network boot once and a power cycle through the BMC',
          requestBody: { required: false, content: json({ type: 'object', additionalProperties: false, properties: { power: { type: 'boolean' } } }) },
          responses: { ...ok('node (with the power outcome when asked)', ref('Node')), ...errors, ...notFound, ...conflict },
        },
      },
      '/nodes/{ref}/power': {
        parameters: [nodeRef],
        post: {
          summary: 'power on, off, cycle or read the status through the node\'s BMC (recorded as an event)',
          requestBody: body({ type: 'object', required: ['action'], properties: { action: { type: 'string', enum: ['on', 'off', 'cycle', 'status'] } } }),
          responses: { ...ok('outcome', { type: 'object' }), '502': { description: 'the BMC failed (message says why)', content: json({ type: 'object' }) }, ...errors, ...notFound },
        },
      },
      '/nodes/{ref}/retry': { parameters: [nodeRef], post: { summary: 'retry a failed bootstrap from the failed stage', responses: { ...ok('node', ref('Node')), ...errors, ...notFound, ...conflict } } },
      '/nodes/{ref}/events': {
        parameters: [nodeRef, { name: 'limit', in: 'query', schema: { type: 'integer', maximum: 1000 } }],
        get: { summary: "the node's events, newest first", responses: { ...ok('events', { type: 'object', properties: { events: { type: 'array', items: ref('Event') } } }), ...errors, ...notFound } },
      },
      '/nodes/{ref}/stage-runs': {
        parameters: [nodeRef, { name: 'generation', in: 'query', description: 'install generation (default: current)', schema: { type: 'integer' } }],
        get: { summary: 'bootstrap stage runs with their status and log tail', responses: { ...ok('stage runs', { type: 'object' }), ...errors, ...notFound } },
      },
      '/nodes/{ref}/preview': {
        parameters: [nodeRef, { name: 'kind', in: 'query', schema: { type: 'string', enum: [...PREVIEW_KINDS] } }],
        get: { summary: 'what the node would be served: iPXE script, pxelinux config, installer file', responses: { ...ok('rendered files', { type: 'object' }), ...errors, ...notFound } },
      },
      '/events': {
        parameters: [
          { name: 'since', in: 'query', description: 'only events with a larger id, oldest first', schema: { type: 'integer' } },
          { name: 'limit', in: 'query', schema: { type: 'integer', maximum: 1000 } },
        ],
        get: { summary: 'recent events (newest first) or events since an id', responses: { ...ok('events', { type: 'object', properties: { events: { type: 'array', items: ref('Event') } } }), ...errors } },
      },
      '/cluster': {
        get: { summary: 'cluster settings', responses: { ...ok('settings', { type: 'object' }), ...errors } },
        patch: { summary: 'change cluster settings (top-level sections replace whole)', requestBody: body({ type: 'object' }), responses: { ...ok('settings', { type: 'object' }), ...errors } },
      },
      '/cluster/checks': { get: { summary: 'pre-bootstrap checks', responses: { ...ok('checks', { type: 'object' }), ...errors } } },
      '/cluster/secrets/reveal': { post: { summary: 'the generated service passwords (recorded as an event naming the user)', responses: { ...ok('secrets', { type: 'object' }), ...errors } } },
      '/profiles': { get: { summary: 'OS profiles', responses: { ...ok('profiles', { type: 'object' }), ...errors } } },
      '/openapi.json': { get: { summary: 'this document', security: [], responses: ok('OpenAPI document', { type: 'object' }) } },
    },
    components: {
      securitySchemes: {
        bearer: { type: 'http', scheme: 'bearer', description: 'API token from `racklift user token NAME`' },
        session: { type: 'apiKey', in: 'cookie', name: 'racklift_session', description: 'web session; mutating requests also need the X-CSRF-Token header' },
      },
      schemas: {
        Error: {
          type: 'object',
          required: ['error'],
          properties: { error: { type: 'object', properties: { code: { type: 'string' }, message: { type: 'string' }, field: { type: ['string', 'null'] } } } },
        },
        Node: {
          type: 'object',
          properties: {
            id: { type: 'integer' },
            mac: { type: 'string' },
            hostname: { type: ['string', 'null'] },
            roles: { type: 'array', items: { type: 'string', enum: [...ROLES] } },
            profile: { type: ['string', 'null'] },
            state: { type: 'string', enum: [...NODE_STATES] },
            generation: { type: 'integer' },
            failedPhase: { type: ['string', 'null'] },
            failedReason: { type: ['string', 'null'] },
            addresses: { type: 'object' },
            interfaces: { type: 'object' },
            disks: { type: 'array', items: { type: 'string' } },
            powerState: { type: ['string', 'null'] },
          },
        },
        Event: {
          type: 'object',
          properties: {
            id: { type: 'integer' },
            nodeId: { type: ['integer', 'null'] },
            mac: { type: ['string', 'null'] },
            at: { type: 'string', format: 'date-time' },
            kind: { type: 'string' },
            fromState: { type: ['string', 'null'] },
            toState: { type: ['string', 'null'] },
            message: { type: 'string' },
            actor: { type: ['string', 'null'] },
          },
        },
      },
    },
  };
}
