"""The exercises' messages in English (the default; other catalogues fall back to it).

Generic messages by name; a chapter's as ``"NN.key.title"``, ``"NN.key.<mistake>"``
and optionally ``"NN.key.otherwise"``; accepted spellings of a word answer as
``"word.<choice>"`` (``|``-separated, the usual one first). Fields in braces are
filled in by the checker. A hint names the mistake and where to look; it never
states the answer.
"""

MESSAGES = {
    # -- every exercise ------------------------------------------------------------------------
    "heading": "Exercise {number} — {title}",
    "right": "right.",
    "unanswered": "not answered yet. Write your answer where the cell says, then run the cell "
    "again.",
    "returns_none": "your function returns None: write its body, and end it with `return`.",
    "raised": "your code raised {error} (at {inputs}). Fix the line the error names, then run the "
    "cell again.",
    "differs": "at {inputs} your code gives {got}, which is not right.",
    "wrong_value": "not the right value yet.",
    "not_a_number": "the answer should be a number (or a tuple of numbers), not a {type}.",
    "wrong_shape": "the answer has shape {got}; it should have shape {want}.",
    "not_words": "answer in words: a string, or a list of strings (not a {type}).",
    "wrong_length": "{got} answers given, {want} expected.",
    "unknown_word": "{word!r} is not one of the choices ({choices}).",
    "wrong_words": "{count} of the {total} answers are not right yet.",
    # -- words ---------------------------------------------------------------------------------
    "word.forward": "forward|forward mode|forward-mode AD|tangent mode|tangent-linear mode|"
    "forward accumulation|bottom-up|jvp",
    "word.reverse": "reverse|reverse mode|reverse-mode AD|backward|backward mode|adjoint mode|"
    "reverse accumulation|top-down|fast AD|backpropagation|vjp",
    # -- 06 dual numbers -----------------------------------------------------------------------
    "06.tan.title": "tan′ with your dual numbers",
    "06.tan.no_chain": "right when the ε part of x is 1, wrong otherwise: tan(a + bε) needs the "
    "chain rule's factor b.",
    "06.tan.not_squared": "the derivative of tan is 1/cos², not 1/cos.",
    "06.tan.sign": "the sign of the ε part is flipped: tan rises wherever it is defined.",
    "06.tan.swapped": "the value and the ε part are swapped: the first part is tan(a) itself.",
    "06.tan.no_one": "tan′ = 1 + tan², and the 1 is missing.",
    "06.tan.otherwise": "Work out tan(a + bε) on paper, as the chapter did for sin, and compare "
    "part by part.",
}
