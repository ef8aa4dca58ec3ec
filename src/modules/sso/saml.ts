import { X509Certificate } from 'node:crypto';
import { DOMParser } from '@xmldom/xmldom';
import type * as NodeSaml from '@node-saml/node-saml';
import type { CacheProvider, Profile } from '@node-saml/node-saml';
import * as xpath from 'xpath';
import { AppError, invalid } from '../../kernel/errors.js';

/** What Coffer needs of an identity provider's metadata. */
export interface IdpMetadata {
  entityId: string;
  /** The SingleSignOnService location for the HTTP-Redirect binding. */
  ssoUrl: string;
  /** Signing certificates, PEM. */
  certificates: string[];
}

/** Where this service provider is, as the browser reached it. */
export interface SpEndpoints {
  entityId: string;
  acsUrl: string;
}

const REDIRECT_BINDING = 'urn:oasis:names:tc:SAML:2.0:bindings:HTTP-Redirect';
const MD = 'urn:oasis:names:tc:SAML:2.0:metadata';
const select = xpath.useNamespaces({ md: MD, ds: 'http://www.w3.org/2000/09/xmldsig#' });
/** A clock that drifts a minute from the IdP's still signs people in. */
const CLOCK_SKEW_MS = 60_000;

/** node-saml (and xml-crypto, xml2js, xmlbuilder, xml-encryption) load on the first SAML request, not at every start. */
let loading: Promise<typeof NodeSaml> | undefined;
// A CommonJS package: Node's import finds its exports by name, but in the server's bundle
// (scripts/bundle.mjs) the import answers only `default`; module.exports is there either way.
const nodeSaml = () =>
  (loading ??= import('@node-saml/node-saml').then((module) => (module as typeof NodeSaml & { default?: typeof NodeSaml }).default ?? module));

/** Parses XML, throwing on anything xmldom complains about instead of logging it. */
function parseXml(xml: string): Document | undefined {
  try {
    const fail = (message: string) => {
      throw new Error(message);
    };
    const doc = new DOMParser({ errorHandler: { warning: () => {}, error: fail, fatalError: fail } }).parseFromString(xml, 'text/xml');
    return doc?.documentElement ? (doc as unknown as Document) : undefined;
  } catch {
    return undefined;
  }
}

const text = (nodes: xpath.SelectReturnType): string[] =>
  (Array.isArray(nodes) ? nodes : []).map((node) => (node as Node).nodeValue ?? (node as Node).textContent ?? '').map((value) => value.trim()).filter(Boolean);

/**
 * The identity provider's entity ID, HTTP-Redirect sign-on URL and signing certificates, from
 * its metadata; a 400 naming `field` when the XML is not such metadata.
 */
export function parseIdpMetadata(xml: string, field = 'body.idp_metadata_xml'): IdpMetadata {
  const doc = parseXml(xml);
  if (!doc) throw invalid(field, 'is not well-formed XML');
  const root = doc.documentElement;
  const descriptor = root.localName === 'EntityDescriptor' && root.namespaceURI === MD ? root : undefined;
  if (!descriptor) throw invalid(field, 'is not SAML 2.0 metadata: its root must be an md:EntityDescriptor (one identity provider)');
  const entityId = descriptor.getAttribute('entityID')?.trim();
  if (!entityId) throw invalid(field, 'has no entityID');
  const idp = select('md:IDPSSODescriptor', descriptor) as Node[];
  if (idp.length !== 1) throw invalid(field, 'has no IDPSSODescriptor: it does not describe an identity provider');
  const [ssoUrl] = text(select(`md:SingleSignOnService[@Binding='${REDIRECT_BINDING}']/@Location`, idp[0]!));
  if (!ssoUrl) throw invalid(field, 'has no SingleSignOnService for the HTTP-Redirect binding');
  let url: URL;
  try {
    url = new URL(ssoUrl);
  } catch {
    throw invalid(field, 'has a SingleSignOnService Location that is not a URL');
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') throw invalid(field, 'has a SingleSignOnService Location that is not an http(s) URL');
  const bodies = text(select("md:KeyDescriptor[not(@use) or @use='signing']/ds:KeyInfo/ds:X509Data/ds:X509Certificate", idp[0]!));
  if (bodies.length === 0) throw invalid(field, 'has no signing certificate (KeyDescriptor with an X509Certificate)');
  const certificates = bodies.map((body) => {
    try {
      return new X509Certificate(Buffer.from(body.replace(/\s+/g, ''), 'base64')).toString();
    } catch {
      throw invalid(field, 'has a signing certificate that is not a valid X.509 certificate');
    }
  });
  return { entityId, ssoUrl, certificates };
}

/** A node-saml cache holding one request ID: the one this sign-in sent (or, at start, captures it). */
function oneRequest(expected?: { id: string; createdAt: Date }) {
  let captured: string | undefined;
  const cache: CacheProvider = {
    saveAsync: async (key, value) => {
      captured = key;
      return { value, createdAt: Date.now() };
    },
    getAsync: async (key) => (expected && key === expected.id ? expected.createdAt.toISOString() : null),
    removeAsync: async (key) => key,
  };
  return { cache, captured: () => captured };
}

async function client(idp: IdpMetadata, sp: SpEndpoints, cacheProvider: CacheProvider, requestTtlMs: number) {
  const { SAML, ValidateInResponseTo } = await nodeSaml();
  return new SAML({
    entryPoint: idp.ssoUrl,
    idpIssuer: idp.entityId,
    idpCert: idp.certificates,
    issuer: sp.entityId,
    audience: sp.entityId,
    callbackUrl: sp.acsUrl,
    // Required signatures: the assertion always (the response may be signed too).
    wantAssertionsSigned: true,
    wantAuthnResponseSigned: false,
    validateInResponseTo: ValidateInResponseTo.always,
    requestIdExpirationPeriodMs: requestTtlMs,
    cacheProvider,
    acceptedClockSkewMs: CLOCK_SKEW_MS,
    identifierFormat: 'urn:oasis:names:tc:SAML:1.1:nameid-format:emailAddress',
    // Which authentication the IdP uses is its business (password, passkey, MFA).
    disableRequestedAuthnContext: true,
  });
}

/** The identity a verified assertion carries, and what replay protection needs to remember. */
export interface SamlIdentity {
  claims: Record<string, unknown>;
  assertionId: string;
  /** Until when the assertion could be presented again (its latest NotOnOrAfter). */
  expiresAt: Date;
}

/**
 * The protocol half of SAML 2.0 sign-in, on @node-saml/node-saml: the AuthnRequest (HTTP-
 * Redirect binding, unsigned) and the verification of the IdP's POSTed response (the
 * assertion's XML signature against the metadata's certificates, audience, validity window,
 * InResponseTo), completed by the checks node-saml leaves to the caller: Recipient and
 * Destination are this ACS URL, and the assertion has an ID to remember.
 */
export const saml = {
  spMetadata: async (sp: SpEndpoints) =>
    (await nodeSaml()).generateServiceProviderMetadata({ issuer: sp.entityId, callbackUrl: sp.acsUrl, wantAssertionsSigned: true, identifierFormat: 'urn:oasis:names:tc:SAML:1.1:nameid-format:emailAddress' }),

  /** The IdP URL to send the browser to, and the AuthnRequest ID its answer must be InResponseTo. */
  async start(idp: IdpMetadata, sp: SpEndpoints, relayState: string, requestTtlMs: number) {
    const { cache, captured } = oneRequest();
    const url = await (await client(idp, sp, cache, requestTtlMs)).getAuthorizeUrlAsync(relayState, undefined, {});
    const requestId = captured();
    if (!requestId) throw new Error('node-saml did not record the AuthnRequest ID');
    return { url, requestId };
  },

  async finish(idp: IdpMetadata, sp: SpEndpoints, samlResponse: string, request: { id: string; createdAt: Date }, requestTtlMs: number): Promise<SamlIdentity> {
    const { cache } = oneRequest(request);
    let profile: Profile | null;
    try {
      ({ profile } = await (await client(idp, sp, cache, requestTtlMs)).validatePostResponseAsync({ SAMLResponse: samlResponse }));
    } catch (error) {
      throw refused(error instanceof Error ? error.message : 'unknown error');
    }
    if (!profile) throw refused('it carries no assertion');

    const response = parseXml(Buffer.from(samlResponse, 'base64').toString('utf8'))!;
    const destination = response.documentElement.getAttribute('Destination');
    if (destination && destination !== sp.acsUrl) throw refused(`its Destination ${destination} is not this service provider's ACS URL ${sp.acsUrl}`);

    // The signed assertion node-saml verified (not the response around it, which may be unsigned).
    const assertion = parseXml(profile.getAssertionXml!())!.documentElement;
    const recipients = text(select("//*[local-name()='SubjectConfirmationData']/@Recipient", assertion));
    if (recipients.length === 0) throw refused('its assertion names no Recipient');
    const stranger = recipients.find((recipient) => recipient !== sp.acsUrl);
    if (stranger) throw refused(`its assertion's Recipient ${stranger} is not this service provider's ACS URL ${sp.acsUrl}`);
    const assertionId = assertion.getAttribute('ID');
    if (!assertionId) throw refused('its assertion has no ID');
    const limits = text(select("//*[local-name()='Conditions' or local-name()='SubjectConfirmationData']/@NotOnOrAfter", assertion))
      .map((value) => Date.parse(value))
      .filter(Number.isFinite);
    // Without a NotOnOrAfter node-saml accepts the assertion at any time: remember it for a day.
    const expiresAt = new Date((limits.length ? Math.max(...limits) : Date.now() + 86_400_000) + CLOCK_SKEW_MS);

    const attributes = (profile.attributes ?? {}) as Record<string, unknown>;
    const email = [profile.email, profile.mail, attributes.email].find((value) => typeof value === 'string') ??
      (profile.nameIDFormat?.endsWith(':emailAddress') ? profile.nameID : undefined);
    const name = [attributes.name, attributes.displayName, profile['http://schemas.xmlsoap.org/ws/2005/05/identity/claims/name']].find((value) => typeof value === 'string');
    return { claims: { ...attributes, sub: profile.nameID, email, ...(name ? { name } : {}) }, assertionId, expiresAt };
  },
};

const refused = (reason: string) => new AppError('UNAUTHENTICATED', `The identity provider's SAML response was refused: ${reason}`);
