// Shared fixtures for the EC2 API tests: a state over the default instance, and a tiny reader for the XML we emit.
import {
  validateOptions,
  defaultInstance,
  type AccountMetadataDefaults,
  type InstanceModel,
  type MetadataOptions,
} from '../../src/imds/index.ts';
import type { Ec2ApiState } from '../../src/ec2-api/actions.ts';
import type { OptionsView } from '../../src/ec2-api/responses.ts';

export interface FakeState extends Ec2ApiState {
  options: MetadataOptions;
  pending: boolean;
  defaults: AccountMetadataDefaults;
}

export function fakeState(instance: InstanceModel = defaultInstance()): FakeState {
  const state: FakeState = {
    instance,
    options: { ...instance.options },
    pending: false,
    defaults: {},
    metadataOptions: (): OptionsView => ({
      state: state.pending ? 'pending' : 'applied',
      options: { ...state.options },
    }),
    modifyMetadataOptions: (patch) => {
      state.options = validateOptions(state.options, patch);
      state.pending = true;
      return state.metadataOptions();
    },
    accountDefaults: () => ({ ...state.defaults }),
    setAccountDefaults: (next) => {
      state.defaults = next;
    },
  };
  return state;
}

export interface XmlElement {
  name: string;
  attributes: string;
  children: XmlElement[];
  text: string;
}

/** Reads the element tree of a document we produced (no CDATA, no comments, attributes kept raw). */
export function readXml(xml: string): XmlElement {
  const body = xml.replace(/^<\?xml[^>]*\?>\s*/, '');
  const root: XmlElement = { name: '#document', attributes: '', children: [], text: '' };
  const stack = [root];
  for (const match of body.matchAll(/<(\/?)([A-Za-z][\w.-]*)([^>]*?)(\/?)>|([^<]+)/g)) {
    const top = stack[stack.length - 1] as XmlElement;
    if (match[5] !== undefined) {
      top.text += match[5].trim() === '' ? '' : match[5];
    } else if (match[1] === '/') {
      if (top.name !== match[2]) throw new Error(`</${match[2]}> closes <${top.name}>`);
      stack.pop();
    } else {
      const element: XmlElement = {
        name: match[2] as string,
        attributes: (match[3] ?? '').trim(),
        children: [],
        text: '',
      };
      top.children.push(element);
      if (match[4] !== '/') stack.push(element);
    }
  }
  if (stack.length !== 1 || root.children.length !== 1) throw new Error('unbalanced document');
  return root.children[0] as XmlElement;
}

export function child(element: XmlElement, ...path: string[]): XmlElement {
  let at = element;
  for (const name of path) {
    const next = at.children.find((c) => c.name === name);
    if (!next) throw new Error(`no <${name}> under <${at.name}>`);
    at = next;
  }
  return at;
}

/** Decodes the five entities escapeXml writes. */
export function textOf(element: XmlElement): string {
  return element.text.replace(
    /&(lt|gt|quot|apos|amp);/g,
    (_, e: string) => ({ lt: '<', gt: '>', quot: '"', apos: "'", amp: '&' })[e] as string,
  );
}
