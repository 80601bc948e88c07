#!/usr/bin/env node
// Reads metadata with @aws-sdk/ec2-metadata-service (IMDSv2: it fetches a token first), no endpoint override.
//   ec2-metadata-service.mjs PATH [v1-disabled]
import { MetadataService } from '@aws-sdk/ec2-metadata-service';

const [path = '/latest/meta-data/instance-id', mode] = process.argv.slice(2);
const service = new MetadataService({ httpOptions: { timeout: 2000 }, ec2MetadataV1Disabled: mode === 'v1-disabled' });
const value = await service.request(path, {});
console.log(JSON.stringify({ value }));
