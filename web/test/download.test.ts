import assert from 'node:assert/strict';
import { test } from 'node:test';
import { licenseBlob, licenseFileName } from '../src/download.ts';

test('the file is saved under the API name <serial>.lic, or one made from the serial', () => {
  assert.equal(licenseFileName({ file_name: 'SKSNWR4TQD.lic' }, 'SKSNWR4TQD'), 'SKSNWR4TQD.lic');
  // A serial of the vendor's older system keeps its dashes.
  assert.equal(licenseFileName({ file_name: 'OLD-00001234.lic' }, 'OLD-00001234'), 'OLD-00001234.lic');
  // A name that could be a path, or anything else, is not used.
  assert.equal(licenseFileName({ file_name: '../../evil.exe' }, 'sksn-wr4t-qd'), 'SKSNWR4TQD.lic');
  assert.equal(licenseFileName({ file_name: '' }, '--'), 'licencia.lic');
});

test('the file holds the JWS alone, byte for byte', async () => {
  const license = 'eyJhbGciOiJFZERTQSJ9.eyJzZXJpYWwiOiJYIn0.c2ln';
  const blob = licenseBlob({ license });
  assert.equal(blob.type, 'application/octet-stream');
  assert.equal(await blob.text(), license);
});
