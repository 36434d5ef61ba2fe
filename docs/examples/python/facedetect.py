"""Face detection with OpenCV's Haar cascade, as a pyframeproc function.

    gst-launch-1.0 ... ! videoconvert ! \
        pyframeproc module=docs/examples/python/facedetect.py format=BGR ! ...

or, as the processing stage,

    PROCESS_PY=docs/examples/python/facedetect.py pipelines/processor

Needs Debian's python3-opencv and opencv-data (the cascade file). The
cascade is loaded once, when the element starts; process() then runs on
every frame, a BGR NumPy array (height, width, 3) viewing the buffer, and
returns one detection per face: the box, the label "face", OpenCV's level
weight as the score (larger is surer; not a probability) and the face's
index in the frame as its id (the cascade does not follow faces from frame
to frame). Its keyword arguments are the cascade's knobs; set them from the
pipeline with parameters="p,scale-factor=1.2,min-neighbors=4".
"""

import cv2

CASCADE_FILE = "/usr/share/opencv4/haarcascades/haarcascade_frontalface_default.xml"

cascade = cv2.CascadeClassifier(CASCADE_FILE)
if cascade.empty():
    raise RuntimeError("could not load the face cascade %s (Debian package "
                       "opencv-data)" % CASCADE_FILE)


def process(frame, scale_factor=1.1, min_neighbors=5, min_size=40):
    gray = cv2.cvtColor(frame, cv2.COLOR_BGR2GRAY)
    boxes, _, weights = cascade.detectMultiScale3(
        gray, scaleFactor=scale_factor, minNeighbors=min_neighbors,
        minSize=(min_size, min_size), outputRejectLevels=True)
    return [{"box": tuple(box), "label": "face", "score": float(weight), "id": i + 1}
            for i, (box, weight) in enumerate(zip(boxes, weights))]
