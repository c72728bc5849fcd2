import { useMemo } from 'react';

import { api } from '../../api/client.js';
import { useEditor } from '../../store/editor.js';
import { canvasToWorkflow } from '../../util/convert.js';
import { diffEditSources } from '../../util/results.js';
import { BeforeAfter, MaskOverlay, Picture } from './Compare.js';

/** The DiffEdit views of the current run: mask over the input, before/after of the edit. */
export function ResultsPanel(): React.JSX.Element | null {
  const doc = useEditor((s) => s.doc);
  const run = useEditor((s) => s.run);
  const sources = useMemo(() => diffEditSources(canvasToWorkflow(doc), run, api.fileUrl), [doc, run]);
  if (!run || run.status !== 'succeeded') return null;
  const { original, mask, edited } = sources;
  return (
    <section className="results" aria-label="Result">
      <h2>Result</h2>
      {edited && (
        <>
          <h3>Edited</h3>
          <Picture source={edited} alt="edited image" className="edited" />
        </>
      )}
      {original && mask && (
        <>
          <h3>Mask over the input</h3>
          <MaskOverlay image={original} mask={mask} />
        </>
      )}
      {original && edited && (
        <>
          <h3>Before / after</h3>
          <BeforeAfter before={original} after={edited} />
        </>
      )}
    </section>
  );
}
