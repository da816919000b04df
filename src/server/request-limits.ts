// Request cost limits for the GraphQL API, as one grafserv plugin (makeRequestLimitsPlugin):
//  - before parsing (graphql-js takes ~0.2 ms per KB, and its recursive parser overflows the stack
//    at a few thousand levels), one linear scan of the query text: its bracket nesting, the aliases
//    written in it, and its length;
//  - before the standard validation rules, the depth, aliases and field selections of each operation,
//    fragments expanded (each fragment is measured once and counted as often as it is spread, so a
//    fragment-spread explosion costs linear time to measure; a fragment cycle counts as nothing here
//    and is reported by graphql-js's NoFragmentCyclesRule). A document over a limit is not validated
//    further, planned or run;
//  - operations in flight on one websocket (graphql-transport-ws `subscribe` messages) and on all
//    of them (each subscription costs work on every event it gets); a client that goes on after
//    as many refusals in a row as its limit is disconnected.
// Each refusal names the limit, the value found and the setting that changes it.
// Libraries considered: graphql-armor's rules (maintained, and usable as graphql-js validation rules)
// phrase refusals as "Syntax Error: Aliases limit of 100 exceeded, found 2000.", cannot name our
// settings, and are a package per limit; graphql-depth-limit walks a fragment again at every spread,
// without a memo (exponential on a spread explosion, endless on a fragment cycle). Neither checks
// the text before it is parsed. So: this module, a single pass each.
import { SafeError } from 'postgraphile/grafast';
import {
  type ASTVisitor,
  type DocumentNode,
  type FragmentDefinitionNode,
  GraphQLError,
  Kind,
  type OperationDefinitionNode,
  type SelectionSetNode,
  type ValidationRule,
  visitInParallel,
} from 'postgraphile/graphql';

export interface RequestLimits {
  /** Deepest field nesting of an operation, fragments expanded (GRAPHQL_MAX_DEPTH). */
  maxDepth: number;
  /** Aliased fields of an operation, fragments expanded (GRAPHQL_MAX_ALIASES). */
  maxAliases: number;
  /** Field selections of an operation, fragments expanded (GRAPHQL_MAX_FIELDS). */
  maxFields: number;
  /** Characters of a query document (GRAPHQL_MAX_QUERY_LENGTH). */
  maxQueryLength: number;
  /** Operations in flight on one websocket connection (GRAPHQL_MAX_SUBSCRIPTIONS_PER_CONNECTION). */
  maxSubscriptionsPerConnection: number;
  /** Subscriptions (websocket operations) running in one server process (GRAPHQL_MAX_SUBSCRIPTIONS). */
  maxSubscriptions: number;
  /** Open websocket connections per server process (GRAPHQL_MAX_WEBSOCKETS). */
  maxWebsockets: number;
  /** statement_timeout of the API roles' SQL, in ms; 0 for none (API_STATEMENT_TIMEOUT_SECONDS). */
  statementTimeoutMs: number;
}

/** The defaults, as src/config.ts declares them. */
export const DEFAULT_REQUEST_LIMITS: Readonly<RequestLimits> = Object.freeze({
  maxDepth: 15,
  maxAliases: 100,
  maxFields: 2000,
  maxQueryLength: 20_000,
  maxSubscriptionsPerConnection: 20,
  maxSubscriptions: 500,
  maxWebsockets: 500,
  statementTimeoutMs: 15_000,
});

export interface OperationCost {
  depth: number;
  aliases: number;
  fields: number;
}

/** 2000 as "2,000" (toLocaleString is slow enough to matter on the refusal path). */
const count = (n: number) =>
  n >= Number.MAX_SAFE_INTEGER ? 'more than 9 quadrillion' : String(n).replace(/\B(?=(\d{3})+$)/g, ',');

/**
 * Depth, aliases and fields of each operation of a parsed document, fragments expanded. Linear in the
 * document: each fragment is measured once.
 */
export function measureDocument(document: DocumentNode): Map<OperationDefinitionNode, OperationCost> {
  const fragments = new Map<string, FragmentDefinitionNode>();
  for (const definition of document.definitions)
    if (definition.kind === Kind.FRAGMENT_DEFINITION) fragments.set(definition.name.value, definition);
  // A fragment being measured is 'visiting': spreading it again (a cycle) counts as nothing.
  const measured = new Map<string, OperationCost | 'visiting'>();
  const none: OperationCost = { depth: 0, aliases: 0, fields: 0 };

  const selectionSet = (set: SelectionSetNode): OperationCost => {
    let depth = 0;
    let aliases = 0;
    let fields = 0;
    for (const selection of set.selections) {
      let inner: OperationCost;
      if (selection.kind === Kind.FIELD) {
        inner = selection.selectionSet ? selectionSet(selection.selectionSet) : none;
        inner = {
          depth: inner.depth + 1,
          aliases: inner.aliases + (selection.alias ? 1 : 0),
          fields: inner.fields + 1,
        };
      } else if (selection.kind === Kind.INLINE_FRAGMENT) {
        inner = selectionSet(selection.selectionSet);
      } else {
        inner = fragment(selection.name.value);
      }
      depth = Math.max(depth, inner.depth);
      aliases = Math.min(Number.MAX_SAFE_INTEGER, aliases + inner.aliases);
      fields = Math.min(Number.MAX_SAFE_INTEGER, fields + inner.fields);
    }
    return { depth, aliases, fields };
  };
  const fragment = (name: string): OperationCost => {
    const known = measured.get(name);
    if (known === 'visiting') return none;
    if (known) return known;
    const definition = fragments.get(name);
    if (!definition) return none; // KnownFragmentNamesRule reports it
    measured.set(name, 'visiting');
    const cost = selectionSet(definition.selectionSet);
    measured.set(name, cost);
    return cost;
  };

  const costs = new Map<OperationDefinitionNode, OperationCost>();
  for (const definition of document.definitions)
    if (definition.kind === Kind.OPERATION_DEFINITION) costs.set(definition, selectionSet(definition.selectionSet));
  return costs;
}

function tooComplex(message: string, limit: number, setting: string, node?: OperationDefinitionNode): GraphQLError {
  return new GraphQLError(`${message}; the limit is ${count(limit)} (setting ${setting})`, {
    nodes: node ? [node] : undefined,
    extensions: { code: 'QUERY_TOO_COMPLEX', limit, setting },
  });
}

/** The first limit the document goes over, as the error for the client; undefined when within. */
export function checkDocument(document: DocumentNode, limits: RequestLimits): GraphQLError | undefined {
  for (const [operation, cost] of measureDocument(document)) {
    if (cost.depth > limits.maxDepth)
      return tooComplex(
        `the query is ${count(cost.depth)} fields deep`,
        limits.maxDepth,
        'GRAPHQL_MAX_DEPTH',
        operation,
      );
    if (cost.aliases > limits.maxAliases)
      return tooComplex(
        `the query selects ${count(cost.aliases)} aliases`,
        limits.maxAliases,
        'GRAPHQL_MAX_ALIASES',
        operation,
      );
    if (cost.fields > limits.maxFields)
      return tooComplex(
        `the query selects ${count(cost.fields)} fields (fragments expanded)`,
        limits.maxFields,
        'GRAPHQL_MAX_FIELDS',
        operation,
      );
  }
  return undefined;
}

/**
 * One validation rule in place of `rules`: a document over a limit gets that one error and is not
 * walked by the others (some of which are superlinear on large documents); any other document gets
 * every rule, as before.
 */
export function requestLimitsRule(limits: RequestLimits, rules: readonly ValidationRule[]): ValidationRule {
  return (context): ASTVisitor => {
    const error = checkDocument(context.getDocument(), limits);
    if (error) {
      context.reportError(error);
      return {};
    }
    return visitInParallel(rules.map((rule) => rule(context)));
  };
}

export interface QueryTextCost {
  /** Deepest nesting of `{`, `[` and `(`. */
  nesting: number;
  /** Aliases written in the text (each `:` outside parentheses is one), fragments not expanded. */
  aliases: number;
}

/**
 * One linear pass over a query text, skipping strings and comments: its bracket nesting and its
 * aliases. Outside parentheses (arguments, variable definitions and the values in them) a colon can
 * only end an alias.
 */
export function scanQueryText(text: string): QueryTextCost {
  let depth = 0;
  let nesting = 0;
  let parentheses = 0;
  let aliases = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 0x7b || c === 0x5b || c === 0x28) {
      if (++depth > nesting) nesting = depth;
      if (c === 0x28) parentheses++;
    } else if (c === 0x7d || c === 0x5d || c === 0x29) {
      if (depth > 0) depth--;
      if (c === 0x29 && parentheses > 0) parentheses--;
    } else if (c === 0x3a) {
      if (parentheses === 0) aliases++;
    } else if (c === 0x23) {
      // # comment, to the end of the line
      while (i < text.length && text.charCodeAt(i) !== 0x0a && text.charCodeAt(i) !== 0x0d) i++;
    } else if (c === 0x22) {
      if (text.startsWith('"""', i)) {
        // Block string: ends at an unescaped """.
        i += 3;
        while (i < text.length && !text.startsWith('"""', i)) i += text.startsWith('\\"""', i) ? 4 : 1;
        i += 2;
      } else {
        i++;
        while (i < text.length && text.charCodeAt(i) !== 0x22 && text.charCodeAt(i) !== 0x0a) {
          if (text.charCodeAt(i) === 0x5c) i++;
          i++;
        }
      }
    }
  }
  return { nesting, aliases };
}

/** Brackets a document may nest: the depth limit's selection sets, with room for arguments. */
export const nestingLimit = (limits: RequestLimits) => Math.max(100, 2 * limits.maxDepth);

/**
 * Refuses a query text before it is parsed (graphql-js's parser takes ~0.2 ms per KB, and overflows
 * its stack at a few thousand levels): too deeply nested, more aliases than the limit even before
 * fragments are expanded, or too long.
 */
export function checkQueryText(query: string, limits: RequestLimits): void {
  const refuse = (message: string, code: string, limit: number, setting: string): never => {
    throw new SafeError(message, { statusCode: 400, code, limit, setting });
  };
  const { nesting, aliases } = scanQueryText(query);
  const limit = nestingLimit(limits);
  if (nesting > limit)
    refuse(
      `the query nests brackets ${count(nesting)} levels deep; the limit is ${count(limit)} (twice the setting GRAPHQL_MAX_DEPTH, at least 100)`,
      'QUERY_TOO_COMPLEX',
      limit,
      'GRAPHQL_MAX_DEPTH',
    );
  if (aliases > limits.maxAliases)
    refuse(
      `the query selects ${count(aliases)} aliases; the limit is ${count(limits.maxAliases)} (setting GRAPHQL_MAX_ALIASES)`,
      'QUERY_TOO_COMPLEX',
      limits.maxAliases,
      'GRAPHQL_MAX_ALIASES',
    );
  if (query.length > limits.maxQueryLength)
    refuse(
      `the query is ${count(query.length)} characters long; the limit is ${count(limits.maxQueryLength)} (setting GRAPHQL_MAX_QUERY_LENGTH)`,
      'QUERY_TOO_LONG',
      limits.maxQueryLength,
      'GRAPHQL_MAX_QUERY_LENGTH',
    );
}

/** What the limits need of a graphql-ws connection context. */
interface WsContext {
  readonly subscriptions: Record<string, unknown>;
  readonly extra: unknown;
}

/** What the limits need of a ws WebSocket (graphql-ws's ctx.extra.socket with grafserv's node adaptor). */
interface WebSocketLike {
  close(code: number, reason: string): void;
  once(event: 'close', listener: () => void): void;
}

/**
 * The grafserv plugin: the text checks on every request body (HTTP and websocket), the document
 * limits as a validation rule, and the cap on operations per websocket connection.
 */
export function makeRequestLimitsPlugin(limits: RequestLimits): GraphileConfig.Plugin {
  /** Open graphql-ws connections (their contexts), for the limit on subscriptions per process. */
  const connections = new Set<WsContext>();
  /** Subscriptions refused in a row, per connection. */
  const refusals = new WeakMap<object, number>();
  const dropped = [new GraphQLError('the connection is closed: too many subscriptions')];
  // Subscriptions start one per turn of the event loop: hundreds arriving at once (from many
  // connections) would otherwise be set up in one go, with every HTTP request waiting behind them.
  let turn: Promise<void> = Promise.resolve();
  const afterOthers = <T>(start: () => T | Promise<T>): Promise<T> => {
    turn = turn.then(() => new Promise<void>((resolve) => setImmediate(resolve)));
    return turn.then(start);
  };

  // Refused, a connection or the process runs exactly its limit (refused operations leave at once):
  // the errors are made once (GraphQLError's stack trace costs more than the rest of a refusal).
  const perConnection = limits.maxSubscriptionsPerConnection;
  const connectionFull = {
    error: new GraphQLError(
      `this connection already has ${count(perConnection)} subscriptions (or other operations) running; the limit is ${count(perConnection)} per connection (setting GRAPHQL_MAX_SUBSCRIPTIONS_PER_CONNECTION): complete one first, or open another connection`,
      {
        extensions: {
          code: 'TOO_MANY_SUBSCRIPTIONS',
          limit: perConnection,
          setting: 'GRAPHQL_MAX_SUBSCRIPTIONS_PER_CONNECTION',
        },
      },
    ),
    reason: `too many subscriptions: the limit is ${perConnection} per connection (setting GRAPHQL_MAX_SUBSCRIPTIONS_PER_CONNECTION)`,
  };
  const processFull = {
    error: new GraphQLError(
      `the server already runs ${count(limits.maxSubscriptions)} subscriptions (or other websocket operations); the limit is ${count(limits.maxSubscriptions)} per server process (setting GRAPHQL_MAX_SUBSCRIPTIONS): try again later`,
      {
        extensions: {
          code: 'TOO_MANY_SUBSCRIPTIONS',
          limit: limits.maxSubscriptions,
          setting: 'GRAPHQL_MAX_SUBSCRIPTIONS',
        },
      },
    ),
    reason: `too many subscriptions: the limit is ${limits.maxSubscriptions} per server process (setting GRAPHQL_MAX_SUBSCRIPTIONS)`,
  };
  /** Why an operation is refused (the error, and the close reason if the client goes on), if it is. */
  const refusal = (ctx: WsContext) => {
    // graphql-ws has entered this operation's id already: the counts include it.
    if (Object.keys(ctx.subscriptions).length > perConnection) return connectionFull;
    let total = 0;
    for (const connection of connections) total += Object.keys(connection.subscriptions).length;
    return total > limits.maxSubscriptions ? processFull : undefined;
  };

  return {
    name: 'RequestLimitsPlugin',
    description: 'Refuses GraphQL requests over the depth, alias, field, length and subscription limits',
    version: '1.0.0',
    grafserv: {
      middleware: {
        setPreset(next, event) {
          event.validationRules = [requestLimitsRule(limits, event.validationRules)];
          return next();
        },
        processGraphQLRequestBody(next, event) {
          if (typeof event.body.query === 'string') checkQueryText(event.body.query, limits);
          return next();
        },
        onSubscribe(next, event) {
          const { ctx } = event;
          const socket = (ctx.extra as { socket?: WebSocketLike } | undefined)?.socket;
          if (socket && !connections.has(ctx)) {
            connections.add(ctx);
            socket.once('close', () => connections.delete(ctx));
          }
          // A client that goes on subscribing after as many refusals in a row as it may run
          // subscriptions is closed (answering thousands of refusals one by one would hold up everyone
          // else), once the refusals already on their way are sent; the rest of what it sent is
          // dropped, at once: graphql-ws sends nothing for an id no longer in ctx.subscriptions.
          const before = refusals.get(ctx) ?? 0;
          if (before > perConnection) {
            delete ctx.subscriptions[event.message.id];
            return dropped;
          }
          const refused = refusal(ctx);
          if (!refused) {
            refusals.delete(ctx);
            return afterOthers(next);
          }
          refusals.set(ctx, before + 1);
          if (before < perConnection) return [refused.error];
          setImmediate(() => socket?.close(1008, refused.reason));
          delete ctx.subscriptions[event.message.id];
          return dropped;
        },
      },
    },
  };
}
