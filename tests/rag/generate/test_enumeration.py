from rag.generate.enumeration import enumeration
from rag.textnorm import sentence_spans


def test_an_enumeration_is_found_from_its_introduction_or_an_item():
    text = "会议透露,重点在三个方面着力:\n一是加快建设现代化产业体系。\n二是扩大开放。\n三是优化环境。\n另外,会议还要求落实。"
    spans = sentence_spans(text)
    assert enumeration(spans, text, 0) == (0, 1, 2, 3)
    assert enumeration(spans, text, 2) == (0, 1, 2, 3)
    assert enumeration(spans, text, 4) is None


def test_items_joined_by_semicolons_are_an_enumeration():
    text = "會議強調,要努力把園區建設成為主陣地。要圍繞聚產業增優勢,加快推動園區特色發展;圍繞引伙伴建圈鏈,不斷壯大規模能級;圍繞強創新促轉化,增強發展動能。另有安排。"
    spans = sentence_spans(text)
    assert enumeration(spans, text, 2) == (1, 2, 3)
    assert enumeration(spans, text, 3) == (1, 2, 3)
    assert enumeration(spans, text, 0) is None
    assert enumeration(spans, text, 4) is None


def test_numbered_items_are_quoted_without_the_sentences_that_explain_them():
    text = (
        "1.智慧服务。鼓励企业建设在线服务平台。重点发展无人店铺。\n\n2.体验服务。推动零售广泛应用现代技术。\n\n"
        "3.定制服务。推进众筹定制。"
    )
    spans = sentence_spans(text)
    quoted = [text[spans[i][0] : spans[i][1]] for i in enumeration(spans, text, 3)]
    assert quoted == ["1.智慧服务。", "2.体验服务。", "3.定制服务。"]


def test_a_heading_that_announces_a_count_brings_its_paragraph():
    text = (
        "(二)建设多个产业集聚区。规划建设37个服务业集聚区。\n\n"
        "(三)建设三大休闲游憩带。建设龙门山旅游带,推动融合发展。建设龙泉山休闲带,推动融合发展。"
        "建设天府绿道游憩带,推动融合发展。\n\n(四)建设三大高端消费引领示范区。打造时尚消费引领示范区。"
    )
    spans = sentence_spans(text)
    heading = next(i for i, (a, b) in enumerate(spans) if text[a:b].startswith("(三)"))
    expected = tuple(range(heading, heading + 4))
    assert enumeration(spans, text, heading) == expected
    assert enumeration(spans, text, heading + 2) == expected  # an item of it
    # a heading announcing no count belongs to the list of headings of its level
    assert enumeration(spans, text, 0) == (0, heading, heading + 4)


def test_sentences_of_a_paragraph_that_open_alike_are_items():
    text = (
        "會議強調,在組織保障上提質提效。健全責任落實鏈條,堅持統籌。健全政策支持體系,完善各類政策。"
        "健全考核激勵機制,強化正向激勵。\n\n健全其他制度。"
    )
    spans = sentence_spans(text)
    assert enumeration(spans, text, 2) == (1, 2, 3)
    assert enumeration(spans, text, 0) is None
