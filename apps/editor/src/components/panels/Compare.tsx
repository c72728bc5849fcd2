import { useState } from 'react';

/** The mask over the input image, with an opacity slider. */
export function MaskOverlay({ image, mask }: { image: string; mask: string }): React.JSX.Element {
  const [opacity, setOpacity] = useState(0.5);
  return (
    <figure className="compare">
      <div className="stack">
        <img src={image} alt="input" />
        <img src={mask} alt="mask" className="overlay" style={{ opacity, mixBlendMode: 'screen' }} />
      </div>
      <figcaption>
        <label>
          Mask opacity
          <input type="range" min={0} max={1} step={0.05} value={opacity} onChange={(e) => setOpacity(Number(e.target.value))} />
        </label>
      </figcaption>
    </figure>
  );
}

/** Before/after: the edited image revealed over the original up to the slider. */
export function BeforeAfter({ before, after }: { before: string; after: string }): React.JSX.Element {
  const [split, setSplit] = useState(50);
  return (
    <figure className="compare">
      <div className="stack">
        <img src={before} alt="before" />
        <img src={after} alt="after" className="overlay" style={{ clipPath: `inset(0 0 0 ${split}%)` }} />
        <div className="split-line" style={{ left: `${split}%` }} />
      </div>
      <figcaption>
        <label>
          Before | after
          <input type="range" min={0} max={100} value={split} onChange={(e) => setSplit(Number(e.target.value))} />
        </label>
      </figcaption>
    </figure>
  );
}
