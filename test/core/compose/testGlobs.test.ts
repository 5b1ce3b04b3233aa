import assert from 'node:assert/strict';
import { checkCompose, isTestFile, validateTestGlobs } from '../../../src/core/compose/index';

describe('compose test-file globs (the dockerStability.compose.testFileGlobs setting)', () => {
  it('keeps valid globs, and they decide which files are test files', () => {
    const v = validateTestGlobs(['**/stack.ci-*.yml', 'qa/**']);
    assert.deepEqual(v, { globs: ['**/stack.ci-*.yml', 'qa/**'] });
    assert.ok(isTestFile('/p/deploy/stack.ci-42.yml', v.globs));
    assert.ok(!isTestFile('/p/docker-compose.test.yml', v.globs));
    const text = 'services:\n  db:\n    image: busybox\n    container_name: fixed\n';
    const rules = (file: string): string[] =>
      checkCompose(text, file, { testGlobs: v.globs }).map((f) => f.rule);
    assert.ok(rules('/p/qa/compose.yml').includes('fixed-container-name'));
    assert.ok(!rules('/p/docker-compose.test.yml').includes('fixed-container-name'));
  });

  it('a bad glob is one line naming it, and the word rule is kept (no globs)', () => {
    for (const bad of [['{a,b'], ['ok/**', ''], [3], 'test/**']) {
      const v = validateTestGlobs(bad);
      assert.deepEqual(v.globs, [], JSON.stringify(bad));
      assert.match(v.error ?? '', /^test-file glob/, JSON.stringify(bad));
      assert.doesNotMatch(v.error ?? '', /\n/);
    }
    assert.match(validateTestGlobs(['{a,b']).error ?? '', /"\{a,b"/);
  });
});
