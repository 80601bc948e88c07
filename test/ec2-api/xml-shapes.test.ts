// Every element our four actions emit is checked against the EC2 service model botocore ships (the model the AWS
// CLI and SDKs parse responses with): a structure's children must be its members' locationNames, lists hold
// <item>s, scalars hold text. Debian's python3-botocore model first, then any botocore on the host.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { gunzipSync } from 'node:zlib';
import { describe, test } from 'node:test';
import { handleAction } from '../../src/ec2-api/actions.ts';
import { EC2_NAMESPACE } from '../../src/ec2-api/responses.ts';
import { fakeState, readXml, type XmlElement } from './helpers.ts';

interface Shape {
  type: string;
  members?: Record<string, { shape: string; locationName?: string }>;
  member?: { shape: string; locationName?: string };
}
interface Model {
  operations: Record<string, { output?: { shape: string } }>;
  shapes: Record<string, Shape>;
}

function modelFrom(directory: string): Model | undefined {
  const base = `${directory}/ec2/2016-11-15/service-2.json`;
  if (existsSync(base)) return JSON.parse(readFileSync(base, 'utf8')) as Model;
  if (existsSync(`${base}.gz`)) return JSON.parse(gunzipSync(readFileSync(`${base}.gz`)).toString('utf8')) as Model;
  return undefined;
}

function loadModels(): Model[] {
  const directories = ['/usr/lib/python3/dist-packages/botocore/data'];
  try {
    const out = execFileSync('python3', ['-c', 'import botocore, os; print(os.path.dirname(botocore.__file__))'], {
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'ignore'],
    });
    directories.push(`${out.trim()}/data`);
  } catch {
    // no other botocore
  }
  return directories.map(modelFrom).filter((m): m is Model => m !== undefined);
}

const models = loadModels();

function checkShape(model: Model, shapeName: string, element: XmlElement, path: string, problems: string[]): void {
  const shape = model.shapes[shapeName] as Shape;
  if (shape.type === 'structure') {
    const byLocation = new Map(
      Object.entries(shape.members ?? {}).map(([name, member]) => [member.locationName ?? name, member.shape]),
    );
    for (const c of element.children) {
      const memberShape = byLocation.get(c.name);
      if (memberShape === undefined) problems.push(`${path}/${c.name} is not a member of ${shapeName}`);
      else checkShape(model, memberShape, c, `${path}/${c.name}`, problems);
    }
  } else if (shape.type === 'list') {
    const itemName = shape.member?.locationName ?? 'item';
    for (const c of element.children) {
      if (c.name !== itemName) problems.push(`${path}/${c.name}: list ${shapeName} holds <${itemName}>`);
      else checkShape(model, (shape.member as { shape: string }).shape, c, `${path}/${c.name}`, problems);
    }
  } else if (element.children.length > 0) {
    problems.push(`${path} is a ${shape.type} but has elements`);
  } else if (shape.type === 'integer' && !/^-?[0-9]+$/.test(element.text)) {
    problems.push(`${path} is not an integer: ${element.text}`);
  } else if (shape.type === 'boolean' && !/^(true|false)$/.test(element.text)) {
    problems.push(`${path} is not a boolean: ${element.text}`);
  }
}

const REQUESTS: Record<string, Record<string, string>> = {
  DescribeInstances: { Action: 'DescribeInstances' },
  ModifyInstanceMetadataOptions: {
    Action: 'ModifyInstanceMetadataOptions',
    InstanceId: 'i-0b22a22eec53b9321',
    HttpTokens: 'required',
  },
  ModifyInstanceMetadataDefaults: { Action: 'ModifyInstanceMetadataDefaults', HttpPutResponseHopLimit: '2' },
  GetInstanceMetadataDefaults: { Action: 'GetInstanceMetadataDefaults' },
};

describe(
  'response documents follow the EC2 service model',
  { skip: models.length === 0 ? 'no botocore EC2 model on this host' : false },
  () => {
    for (const [action, params] of Object.entries(REQUESTS)) {
      test(action, (t) => {
        const candidates = models.filter((m) => m.operations[action] !== undefined);
        if (candidates.length === 0) {
          t.skip(`no botocore model here has ${action}`);
          return;
        }
        const state = fakeState();
        state.defaults = { httpTokens: 'required', httpPutResponseHopLimit: 3 };
        const root = readXml(handleAction(new Map(Object.entries(params)), state, 'req-1'));
        assert.equal(root.name, `${action}Response`);
        assert.equal(root.attributes, `xmlns="${EC2_NAMESPACE}"`);
        assert.equal(root.children[0]?.name, 'requestId');
        const body = { ...root, children: root.children.slice(1) };
        // Newer members (placement/availabilityZoneId) are unknown to older models: one model must accept it all.
        const verdicts = candidates.map((model) => {
          const problems: string[] = [];
          checkShape(model, model.operations[action]?.output?.shape as string, body, action, problems);
          return problems;
        });
        assert.ok(
          verdicts.some((problems) => problems.length === 0),
          JSON.stringify(verdicts),
        );
        assert.ok(root.children.length > 1, 'the document carries a result');
      });
    }
  },
);
