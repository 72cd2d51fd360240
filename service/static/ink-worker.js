// Off the page's thread: the ink (red < 128) of an image, painted in one RGBA colour on transparency, for the
// compare viewer's overlay (reading back a 12 MP page's pixels takes about a second in software rendering).

self.addEventListener("message", async ({ data: { id, blob, rgba } }) => {
  const image = await createImageBitmap(blob);
  const canvas = new OffscreenCanvas(image.width, image.height);
  const context = canvas.getContext("2d", { willReadFrequently: true });
  context.drawImage(image, 0, 0);
  const pixels = context.getImageData(0, 0, image.width, image.height);
  const words = new Uint32Array(pixels.data.buffer);
  for (let i = 0; i < words.length; i++) words[i] = (words[i] & 0xff) < 128 ? rgba : 0;
  context.putImageData(pixels, 0, 0);
  const bitmap = canvas.transferToImageBitmap();
  self.postMessage({ id, bitmap }, [bitmap]);
});
